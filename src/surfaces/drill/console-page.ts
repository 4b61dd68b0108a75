/**
 * The drill console's one page, laid out as Slack behaves where it matters to an evaluator:
 * channels on the left (a new incident channel is selected as it appears), the channel's
 * messages (pinned ones marked, threads collapsed to "n replies", scrolled to the newest,
 * `#channel` links clickable), the bot's ephemeral answers inline at the bottom for the person
 * acting only, Block Kit confirm dialogs before a press counts, a picker to act as each person,
 * a command box, and the modal when the bot opens one. It polls `/api/state` every 600 ms and
 * redraws only what changed, so a button is never replaced under the pointer.
 */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>migrate-bot drill</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; font: 15px/1.45 -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1c1d; display: grid; grid-template-rows: auto 1fr auto; height: 100vh; }
  #banner { background: #b45309; color: #fff; padding: 8px 16px; font-weight: 600; }
  #banner small { font-weight: 400; opacity: .9; }
  main { display: grid; grid-template-columns: 260px 1fr; min-height: 0; }
  nav { background: #3f0e40; color: #e8dfe8; padding: 12px; overflow: auto; }
  nav h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; opacity: .7; margin: 12px 0 6px; }
  nav a { display: block; color: inherit; text-decoration: none; padding: 3px 6px; border-radius: 4px; word-break: break-all; font-size: 13px; }
  nav a.active { background: #1164a3; color: #fff; }
  #channel { overflow: auto; padding: 0 20px 20px; }
  #channel-head { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: 10px 0; margin-bottom: 8px; }
  #channel-head .topic { color: #616061; font-size: 13px; }
  #channel-head .bookmarks a { font-size: 12px; margin-right: 10px; }
  .message { padding: 6px 0; border-top: 1px solid #f3f3f3; }
  .meta { font-size: 13px; color: #616061; } .meta b { color: #1d1c1d; }
  .thread { margin-left: 28px; border-left: 3px solid #e0e0e0; padding-left: 10px; font-size: 14px; }
  .thread summary { color: #1264a3; cursor: pointer; font-size: 13px; }
  .block { margin: 4px 0; } .header { font-weight: 700; font-size: 17px; }
  .section { display: flex; gap: 12px; justify-content: space-between; align-items: flex-start; }
  .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; margin-top: 4px; }
  .context { color: #616061; font-size: 13px; }
  code { background: #f6f6f6; border: 1px solid #e5e5e5; border-radius: 3px; padding: 0 3px; font-size: 13px; color: #c7254e; }
  pre { background: #f8f8f8; border: 1px solid #e5e5e5; padding: 8px; overflow: auto; font-size: 12px; }
  blockquote { border-left: 4px solid #ddd; margin: 0; padding-left: 8px; }
  .block-button, .button { border: 1px solid #bbb; background: #fff; border-radius: 4px; padding: 4px 12px; margin-right: 6px; cursor: pointer; font-weight: 600; font-size: 14px; text-decoration: none; color: #1d1c1d; }
  .primary { background: #007a5a; color: #fff; border-color: #007a5a; } .danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
  .ephemeral { background: #f8f8f8; border-left: 3px solid #1264a3; border-radius: 4px; padding: 6px 8px; margin: 8px 0; font-size: 14px; }
  .ephemeral::before { content: "👁 Only visible to you"; display: block; color: #888; font-size: 11px; }
  .pinned { background: #fef9e7; } .pin { color: #b45309; font-size: 12px; }
  a.mention, span.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; text-decoration: none; }
  footer { border-top: 1px solid #ddd; padding: 10px 16px; display: flex; gap: 8px; align-items: center; }
  footer select, footer input { font-size: 15px; padding: 6px; } footer input { flex: 1; }
  #modal-back { position: fixed; inset: 0; background: rgba(0,0,0,.45); display: none; align-items: center; justify-content: center; }
  #modal { background: #fff; border-radius: 8px; width: 520px; max-width: 92vw; padding: 16px 20px; }
  #modal h3 { margin: 0 0 8px; } #modal .input { display: block; margin-top: 10px; font-weight: 600; }
  #modal .input input { display: block; width: 100%; box-sizing: border-box; margin-top: 4px; padding: 6px; font-size: 15px; }
  #modal .errors { color: #e01e5a; font-size: 13px; } #modal .buttons { text-align: right; margin-top: 12px; }
  .empty { color: #888; padding: 24px 0; }
</style>
</head>
<body>
<div id="banner">DRILL — migrate-bot on a local demo database. Slack is simulated; nothing here touches production. <small id="drill-info"></small></div>
<main>
  <nav><h2>Channels</h2><div id="channels"></div><h2>You are</h2><div id="who"></div></nav>
  <section id="channel"><div id="channel-head"></div><div id="messages"><div class="empty">No incident yet. Type <code>/migrate rollback 003</code> below.</div></div><div id="ephemerals"></div></section>
</main>
<footer>
  <label>Act as <select id="user"></select></label>
  <form id="command-form" style="display:flex;flex:1;gap:8px"><input id="command" autocomplete="off" placeholder="/migrate rollback 003" value="/migrate rollback 003"><button class="block-button primary" type="submit">Send</button></form>
</footer>
<div id="modal-back"><div id="modal"></div></div>
<script>
const $ = (id) => document.getElementById(id);
let current = null; // channel id
let knownChannels = null; // ids seen so far: a new one is selected as it appears, as Slack opens a channel you are invited to
const openThreads = new Set();
let shown = { channels: '', messages: '', ephemerals: null, modal: '', head: '' };
const user = () => $('user').value;
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) console.warn(path, res.status, await res.text());
}
function set(id, key, html) { if (shown[key] !== html) { shown[key] = html; $(id).innerHTML = html; return true; } return false; }
function atBottom() { const c = $('channel'); return c.scrollHeight - c.scrollTop - c.clientHeight < 80; }
async function refresh() {
  const res = await fetch('/api/state?user=' + encodeURIComponent(user()) + (current ? '&channel=' + current : ''));
  const s = await res.json();
  if (!$('user').options.length) {
    for (const u of s.users) $('user').add(new Option(u.name + ' — ' + u.role, u.id));
    $('drill-info').textContent = 'Service ' + s.drill.service + ' on database ' + s.drill.database + '; try rolling back ' + s.drill.migration + '.';
  }
  $('who').textContent = $('user').selectedOptions[0]?.text ?? '';
  const ids = s.channels.map((c) => c.id);
  if (knownChannels && ids.some((id) => !knownChannels.includes(id))) {
    current = ids.find((id) => !knownChannels.includes(id));
    shown.messages = shown.head = '';
    knownChannels = ids;
    return refresh();
  }
  knownChannels = ids;
  if (s.channel && !current) current = s.channel.id;
  set('channels', 'channels', s.channels.map((c) => '<a href="#" data-goto="' + c.id + '" class="' + (c.id === current ? 'active' : '') + '"># ' + c.name + (c.archived ? ' (archived)' : '') + '</a>').join(''));
  const follow = atBottom();
  let changed = false;
  if (s.channel) {
    set('channel-head', 'head', '<b># ' + s.channel.name + '</b><div class="topic">' + (s.channel.topic || '') + '</div><div class="bookmarks">' + (s.channels.find((c) => c.id === s.channel.id)?.bookmarks ?? []).map((b) => '<a href="' + b.link + '" target="_blank">🔖 ' + b.title + '</a>').join('') + '</div>');
    if (set('messages', 'messages', s.channel.html)) {
      changed = true;
      for (const d of $('messages').querySelectorAll('details[data-thread]')) if (openThreads.has(d.dataset.thread)) d.open = true;
    }
  }
  if (set('ephemerals', 'ephemerals', s.ephemerals.map((e) => '<div class="ephemeral">' + e + '</div>').join(''))) changed = true;
  if (changed && follow) $('channel').scrollTop = $('channel').scrollHeight;
  const modalKey = s.modal ? s.modal.id + JSON.stringify(s.modal.errors) : '';
  if (shown.modal !== modalKey && !$('modal').dataset.confirming) {
    shown.modal = modalKey;
    $('modal-back').style.display = s.modal ? 'flex' : 'none';
    if (s.modal) {
      const errors = Object.values(s.modal.errors).map((e) => '<div class="errors">' + e + '</div>').join('');
      $('modal').innerHTML = '<h3>' + s.modal.title + '</h3>' + s.modal.html + errors + '<div class="buttons"><button class="block-button" data-modal="cancel" data-view-id="' + s.modal.id + '">' + s.modal.close + '</button><button class="block-button primary" data-modal="submit" data-view-id="' + s.modal.id + '">' + s.modal.submit + '</button></div>';
    }
  }
}
/** Block Kit's confirm dialog: resolves true when confirmed. */
function confirmDialog(c) {
  return new Promise((resolve) => {
    $('modal').dataset.confirming = '1';
    $('modal').innerHTML = '<h3>' + c.title + '</h3><div class="confirm-text">' + c.html + '</div><div class="buttons"><button class="block-button" data-confirm-answer="no">' + c.deny + '</button><button class="block-button primary" data-confirm-answer="yes">' + c.confirm + '</button></div>';
    $('modal-back').style.display = 'flex';
    const done = (ev) => {
      const b = ev.target.closest('[data-confirm-answer]');
      if (!b) return;
      ev.stopPropagation();
      $('modal').removeEventListener('click', done, true);
      delete $('modal').dataset.confirming;
      $('modal-back').style.display = 'none';
      shown.modal = '';
      resolve(b.dataset.confirmAnswer === 'yes');
    };
    $('modal').addEventListener('click', done, true);
  });
}
document.addEventListener('toggle', (ev) => {
  const d = ev.target;
  if (d.dataset && d.dataset.thread) { if (d.open) openThreads.add(d.dataset.thread); else openThreads.delete(d.dataset.thread); }
}, true);
document.addEventListener('click', async (ev) => {
  const t = ev.target.closest('[data-goto], .block-button[data-action-id], [data-modal]');
  if (!t) return;
  ev.preventDefault();
  if (t.dataset.goto) { current = t.dataset.goto; shown.messages = shown.head = shown.channels = ''; return refresh(); }
  if (t.dataset.modal === 'cancel') { await post('/api/view', { user: user(), viewId: t.dataset.viewId, values: {}, cancel: true }); return refresh(); }
  if (t.dataset.modal === 'submit') {
    const values = {};
    for (const input of $('modal').querySelectorAll('input[data-block-id]')) { values[input.dataset.blockId] = { [input.dataset.actionId]: input.value }; }
    await post('/api/view', { user: user(), viewId: t.dataset.viewId, values });
    return refresh();
  }
  if (t.dataset.confirm && !(await confirmDialog(JSON.parse(t.dataset.confirm)))) return;
  t.disabled = true;
  await post('/api/action', { user: user(), actionId: t.dataset.actionId, value: t.dataset.value, channel: t.dataset.channel, ts: t.dataset.ts });
  setTimeout(() => { t.disabled = false; }, 800);
});
$('command-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('command').value.trim();
  if (!text) return;
  await post('/api/command', { user: user(), text, channel: current ?? undefined });
  refresh();
});
// Another person: their own answers only (an empty list is drawn too), and no modal of the last one.
$('user').addEventListener('change', () => { shown.ephemerals = null; shown.modal = ''; refresh(); });
refresh();
setInterval(refresh, 600);
</script>
</body>
</html>
`;
