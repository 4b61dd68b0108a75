/** The signed Slack requests the drill console sends, shared with the tests (one builder of slash commands, button presses and modal submissions). */
export * from '../../src/surfaces/drill/slack-requests.js';
