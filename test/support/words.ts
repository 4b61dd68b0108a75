import type { AppError } from '../../src/shared/errors.js';
import { isWords, wordsPlain } from '../../src/shared/words.js';

/** An AppError's user message as plain text (code keeps its backticks), or undefined when it has none. */
export function userText(err: Pick<AppError, 'userMessage'>): string | undefined {
  return err.userMessage ? wordsPlain(err.userMessage) : undefined;
}

/**
 * An asymmetric matcher for {@link Words} (vitest treats any object with `asymmetricMatch` as
 * one): matches when the words, as plain text, contain `expected` or match it.
 */
export function saying(expected: string | RegExp) {
  return {
    asymmetricMatch: (actual: unknown): boolean => {
      if (!isWords(actual)) return false;
      const text = wordsPlain(actual);
      return typeof expected === 'string' ? text.includes(expected) : expected.test(text);
    },
    toString: (): string => `Words saying ${String(expected)}`,
    toAsymmetricMatcher: (): string => `Words saying ${String(expected)}`,
  };
}
