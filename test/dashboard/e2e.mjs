// The ops dashboard end to end, in real headless Chromium against the real server: callbridge (with
// an API token and a SQLite call store) between the fake ElevenLabs agent (transcript scenario) and
// the call simulator placing one long call, all on loopback. Through the page: sign in with the
// token, see the call appear, its transcript grow, whisper to the agent (the text comes back as a
// call event and must stay text), hang the call up and see it go; the simulator must see the server
// hang up. Then the history view: find the stored call by a word it said, open its transcript,
// DTMF and ElevenLabs' post-call summary (markup in it stays text). No console errors, no request
// leaving the server's origin. Last, restarts without a usable store: the history view says so
// without a failed request. Saves two screenshots (live and history).
//
// Environment (test/dashboard/CMakeLists.txt sets it): CALLBRIDGE_BIN, FAKE_ELEVENLABS_BIN,
// CALLSIM_BIN, CHROMIUM_BIN (default /usr/bin/chromium), DASHBOARD_DIR (the page's sources),
// ARTIFACT_DIR (screenshot and process logs; default the system's temp dir).
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const TIME_LIMIT_MS = 55000;
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const env = process.env;
const artifactDir = env.ARTIFACT_DIR || os.tmpdir();
const processes = [];
let browser = null;
let workDir = '';
let checks = 0;

function required(name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (the path of the executable; see test/dashboard/CMakeLists.txt)`);
  if (!fs.existsSync(value)) throw new Error(`${name}=${value} does not exist: build it first`);
  return value;
}

function pass(what) {
  checks += 1;
  console.log(`ok ${checks} - ${what}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, timeoutMs, probe) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Only what a process needs from ours: a developer's callbridge settings must not leak in.
function baseEnvironment() {
  const keep = /^(PATH|HOME|LANG|LC_[A-Z]+|TMPDIR|ASAN_OPTIONS|UBSAN_OPTIONS|LSAN_OPTIONS)$/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => keep.test(name)));
}

function start(name, file, args, extraEnv = {}) {
  const child = spawn(file, args, {
    cwd: workDir,
    env: { ...baseEnvironment(), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, output: '', exited: null };
  const collect = (chunk) => {
    if (proc.output.length < 4 << 20) proc.output += chunk;
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  proc.exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exited = { code, signal };
      resolve(proc.exited);
    });
    child.once('error', (error) => {
      proc.output += `\n[${name} could not start: ${error.message}]\n`;
      proc.exited = { code: null, signal: null, error };
      resolve(proc.exited);
    });
  });
  processes.push(proc);
  return proc;
}

async function stop(proc) {
  if (proc.exited) return;
  proc.child.kill('SIGTERM');
  const stopped = await Promise.race([proc.exit, sleep(3000).then(() => null)]);
  if (!stopped) {
    proc.child.kill('SIGKILL');
    await proc.exit;
  }
}

async function stopAll() {
  await Promise.all(processes.map(stop));
}

function saveLogs() {
  for (const proc of processes) {
    const file = path.join(artifactDir, `dashboard-e2e-${proc.name}.log`);
    try {
      fs.writeFileSync(file, proc.output);
    } catch {
      // the logs are a convenience; the verdict stands without them
    }
  }
}

function tail(text, lines = 30) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// 8 kHz 16-bit mono: 1 s of 440 Hz at -12 dBFS, then 3 s of silence. Looped by callsim, it gives the
// fake agent a caller turn every 4 s (its VAD ends a turn after 500 ms of quiet).
function writeCallerWav(file) {
  const rate = 8000;
  const samples = rate * 4;
  const data = Buffer.alloc(samples * 2);
  const amplitude = 32767 * 10 ** (-12 / 20);
  for (let i = 0; i < rate; i += 1) {
    data.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([header, data]));
}

// What ElevenLabs would send after the call, signed as docs/store.md says.
async function postCallWebhook(origin, secret, body) {
  const raw = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const v0 = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
  const response = await fetch(`${origin}/webhooks/elevenlabs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'ElevenLabs-Signature': `t=${t},v0=${v0}` },
    body: raw,
  });
  return { status: response.status, body: await response.text() };
}

// The page's own promises: nothing from outside the server, nothing parsed as markup.
function checkSources(dir) {
  const js = fs.readFileSync(path.join(dir, 'dashboard.js'), 'utf8');
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const css = fs.readFileSync(path.join(dir, 'dashboard.css'), 'utf8');
  const markupSink = js.match(/\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval)\b/);
  if (markupSink) throw new Error(`dashboard.js uses ${markupSink[1]}: build elements and set textContent instead`);
  for (const [, url] of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) {
    if (!(url.startsWith('/') && !url.startsWith('//')) && !url.startsWith('data:')) {
      throw new Error(`index.html loads ${url}: everything must come from callbridge itself`);
    }
  }
  if (/url\(|@import/.test(css)) throw new Error('dashboard.css loads a resource: use system fonts, no images');
  pass('the page builds its DOM without markup sinks and loads nothing from outside');
}

async function get(origin, route, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  try {
    const response = await fetch(origin + route, { headers });
    return { status: response.status, type: response.headers.get('content-type') || '', body: await response.text() };
  } catch {
    return null;
  }
}

async function run() {
  const callbridgeBin = required('CALLBRIDGE_BIN');
  const fakeAgentBin = required('FAKE_ELEVENLABS_BIN');
  const callsimBin = required('CALLSIM_BIN');
  const chromiumBin = env.CHROMIUM_BIN || '/usr/bin/chromium';
  if (!fs.existsSync(chromiumBin)) throw new Error(`no Chromium at ${chromiumBin} (apt-get install chromium)`);
  if (env.DASHBOARD_DIR) checkSources(env.DASHBOARD_DIR);

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Error(`playwright-core is missing (${error.code || error.message}): run \`npm ci\` in test/dashboard`);
  }

  fs.mkdirSync(artifactDir, { recursive: true });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callbridge-dashboard-'));
  const wav = path.join(workDir, 'caller.wav');
  writeCallerWav(wav);

  const agent = start('fake-elevenlabs', fakeAgentBin, ['--port', '0']);
  const agentPort = await waitFor('the fake agent to listen', 5000, () => {
    if (agent.exited) throw new Error(`fake-elevenlabs exited: ${tail(agent.output)}`);
    const match = agent.output.match(/listening on ws:\/\/[^:]+:(\d+)\//);
    return match && Number(match[1]);
  });

  const token = `dash-${randomBytes(12).toString('hex')}`;
  const webhookSecret = `wsec_${randomBytes(16).toString('hex')}`;
  const apiPort = await freePort();
  const audiosocketPort = await freePort();
  const settings = {
    API_BIND: '127.0.0.1',
    API_PORT: String(apiPort),
    API_TOKEN: token,
    AUDIOSOCKET_HOST: '127.0.0.1',
    AUDIOSOCKET_PORT: String(audiosocketPort),
    AUDIOSOCKET_PORT_MIN: '0',
    ELEVENLABS_BASE_URL: `http://127.0.0.1:${agentPort}`,
    ELEVENLABS_AGENT_ID: 'transcript.pcm_16000.pcm_16000',
    DB_URL: `sqlite:${path.join(workDir, 'calls.db')}`,
    STORE_JOURNAL: path.join(workDir, 'journal.log'),
    ELEVENLABS_WEBHOOK_SECRET: webhookSecret,
    LOG_LEVEL: 'info',
  };
  const origin = `http://127.0.0.1:${apiPort}`;
  const startServer = async (name, changes = {}) => {
    const proc = start(name, callbridgeBin, [], { ...settings, ...changes });
    await waitFor(`callbridge to serve the control API on ${origin} (API_PORT)`, 10000, async () => {
      if (proc.exited) throw new Error(`callbridge exited (${JSON.stringify(proc.exited)}):\n${tail(proc.output)}`);
      const health = await get(origin, '/healthz');
      return health && health.status === 200;
    });
    return proc;
  };
  const server = await startServer('callbridge');
  pass(`callbridge serves the control API on ${origin}`);

  const index = await get(origin, '/');
  if (!index || index.status !== 200 || !index.type.startsWith('text/html')) {
    throw new Error(
      `GET / answered ${index ? `${index.status} ${index.type}: ${index.body.slice(0, 200)}` : 'nothing'}: ` +
        'the dashboard is not in the asset table (control_api_handles::assets = dashboard_assets())',
    );
  }
  pass('GET / serves the dashboard without a token');

  browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_FLAGS,
    timeout: 20000,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1100 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const consoleErrors = [];
  const foreignRequests = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url || 'page'})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.origin !== origin) foreignRequests.push(request.url());
  });
  page.on('websocket', (socket) => {
    const url = new URL(socket.url());
    if (url.host !== new URL(origin).host) foreignRequests.push(socket.url());
  });

  await page.goto(`${origin}/`);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token-input', token);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#connection[data-state="ok"]').waitFor({ timeout: 5000 });
  pass('signed in with the token; the WebSocket authenticated with its first message');

  await page.reload();
  await page.locator('#connection[data-state="ok"]').waitFor({ timeout: 5000 });
  if (await page.locator('#login').isVisible()) throw new Error('the page asked for the token again after a reload');
  pass('the token is kept for the tab: a reload goes straight to the dashboard');

  const uuid = randomUUID();
  const callsim = start('callsim', callsimBin, [
    '--host', '127.0.0.1',
    '--port', String(audiosocketPort),
    '--uuid', uuid,
    '--wav', wav,
    '--after-wav', 'loop',
    '--dtmf', '300:5',
    '--wait-hangup',
    '--max-time', '50s',
    '--json',
  ]);
  const row = page.locator(`#calls tbody tr[data-uuid="${uuid}"]`);
  await row.waitFor({ timeout: 5000 });
  pass(`call ${uuid} appears in the live list`);

  await row.locator('button.select').click();
  const turns = page.locator('#transcript li.turn');
  await waitFor('2 transcript entries', 15000, async () => (await turns.count()) >= 2);
  const seen = await turns.count();
  await waitFor(`the transcript to grow past ${seen} entries`, 15000, async () => (await turns.count()) > seen);
  pass(`the transcript shows ${seen} entries, then ${await turns.count()}`);

  // A word the caller said, to find the call by in the history later.
  const callerTurn = page.locator('#transcript li[data-kind="user_transcript"] .what').first();
  await callerTurn.waitFor({ timeout: 15000 });
  const callerLine = await callerTurn.textContent();
  const searchWord = (callerLine.toLowerCase().match(/[a-z]{4,}/g) || []).sort((a, b) => b.length - a.length)[0];
  if (!searchWord) throw new Error(`no word to search for in the caller's line ${JSON.stringify(callerLine)}`);

  const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & "quotes"';
  await page.fill('#whisper-text', payload);
  await page.click('#whisper-form button[type="submit"]');
  await page.locator('#call-result', { hasText: 'Delivered' }).waitFor();
  const echoed = page.locator('#transcript li[data-kind="operator_contextual_update"] .what');
  await echoed.first().waitFor();
  const shown = await echoed.first().textContent();
  if (shown !== payload) throw new Error(`the whisper came back as ${JSON.stringify(shown)}`);
  const injected = await page.evaluate(() => ({
    xss: window.__xss,
    elements: document.querySelectorAll('#transcript img, #transcript script').length,
  }));
  if (injected.xss !== undefined || injected.elements !== 0) throw new Error(`server text became markup: ${JSON.stringify(injected)}`);
  pass('a whisper is delivered and its text, markup included, is shown as text');

  await page.locator('#logs li').first().waitFor({ timeout: 5000 });
  await page.locator('#agent-facts dt', { hasText: 'sessions open' }).waitFor({ timeout: 5000 });
  const actorKinds = await page.locator('#actors tbody tr').count();
  pass(`the log tail and the health cards fill from the streams (${actorKinds} actor kinds listed)`);

  const screenshot = path.join(artifactDir, 'dashboard-e2e.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  if (await page.locator('#call-open-history').isVisible()) throw new Error('"Open in history" is offered for a live call');

  const hangup = row.locator('button.hangup');
  await hangup.click();
  await row.locator('button.hangup', { hasText: 'Confirm' }).waitFor();
  await hangup.click();
  await row.waitFor({ state: 'detached', timeout: 10000 });
  await page.locator('#call-meta', { hasText: 'Ended' }).waitFor();
  pass('the hang-up button ends the call and its row disappears');

  const ended = await Promise.race([callsim.exit, sleep(10000).then(() => null)]);
  if (!ended) throw new Error('callsim still runs 10 s after the hang-up');
  const report = JSON.parse(callsim.output.slice(callsim.output.indexOf('{"calls"')));
  const call = report.calls[0];
  if (call.end !== 'server_hangup' || !call.received.server_sent_hangup) {
    throw new Error(`callsim saw the call end as ${call.end} (${call.detail}), not a server hang-up`);
  }
  pass(`callsim saw the server hang up (after ${call.sent.audio_frames} frames sent)`);

  // ElevenLabs' post-call webhook for the conversation, with markup in the summary.
  const storedByApi = await get(origin, `/api/history/${uuid}`, token);
  if (!storedByApi || storedByApi.status !== 200) {
    throw new Error(`GET /api/history/${uuid} answered ${storedByApi ? `${storedByApi.status}: ${storedByApi.body}` : 'nothing'}`);
  }
  const conversationId = JSON.parse(storedByApi.body).call.conversation_id;
  if (!conversationId) throw new Error('the stored call has no conversation id');
  const summary = `The caller asked about an order. <img src=x onerror="window.__xss=3"><script>window.__xss=4</script>`;
  const webhook = await postCallWebhook(origin, webhookSecret, {
    type: 'post_call_transcription',
    event_timestamp: Math.floor(Date.now() / 1000),
    data: {
      agent_id: settings.ELEVENLABS_AGENT_ID,
      conversation_id: conversationId,
      analysis: { transcript_summary: summary, call_successful: 'success' },
      metadata: { termination_reason: 'Call ended by the operator', cost: 412 },
    },
  });
  if (webhook.status !== 200) throw new Error(`the post-call webhook was answered ${webhook.status}: ${webhook.body}`);

  // The history view: the finished call, found by what the caller said. A search marks the list
  // busy as it starts (in the click) and done when the answer is shown.
  const search = async () => {
    await page.click('#history-filters button[type="submit"]');
    await page.locator('#history-panel[aria-busy="false"]').waitFor();
  };
  await page.click('#call-open-history');
  await page.locator('#history-view').waitFor({ state: 'visible' });
  const storedRow = page.locator(`#history-calls tbody tr[data-uuid="${uuid}"]`);
  await storedRow.waitFor({ timeout: 5000 });
  await page.locator('#record-panel[aria-busy="false"] #record').waitFor();
  if ((await page.locator('#record-title').textContent()) !== uuid) throw new Error('"Open in history" opened another call');
  pass('"Open in history" on the ended call switches to the history view: the call is listed and opened');

  const noMatch = async (what) => {
    await search();
    const listed = await page.locator('#history-calls tbody tr').count();
    const empty = await page.locator('#history-empty').textContent();
    if (listed !== 0 || !empty.startsWith('No stored call matches')) throw new Error(`a search for ${what} lists ${listed} calls ("${empty}")`);
  };
  await page.fill('#history-text', 'zebra-xylophone-nowhere');
  await noMatch('words never said');
  // The call's day in the browser's time zone, as a date input holds it, and the day after.
  const startedMs = JSON.parse(storedByApi.body).call.started_unix_ms;
  const [callDay, nextDay] = await page.evaluate((ms) => {
    const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const d = new Date(ms);
    return [day(d), day(new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1))];
  }, startedMs);
  await page.fill('#history-from', nextDay);
  await page.fill('#history-text', '');
  await noMatch('calls from the day after');
  const offered = await page.locator('#history-agents option').evaluateAll((options) => options.map((o) => o.value));
  if (!offered.includes(settings.ELEVENLABS_AGENT_ID)) throw new Error(`the agent filter offers ${JSON.stringify(offered)}`);
  await page.fill('#history-from', callDay);
  await page.fill('#history-to', callDay);
  await page.fill('#history-agent', settings.ELEVENLABS_AGENT_ID);
  await page.fill('#history-text', searchWord);
  await search();
  if ((await page.locator('#history-calls tbody tr').count()) !== 1 || !(await storedRow.isVisible())) {
    throw new Error(`the search for "${searchWord}" on the call's day and agent does not list just that call`);
  }
  const countShown = await page.locator('#history-count').textContent();
  if (countShown !== '1') throw new Error(`the search for "${searchWord}" counts ${countShown} calls, not 1`);
  const range = await page.locator('#history-range').textContent();
  if (range !== '1–1 of 1' || !(await page.locator('#history-older').isDisabled()) || !(await page.locator('#history-newer').isDisabled())) {
    throw new Error(`the pager shows "${range}" with a page to turn to`);
  }
  const listedReason = await storedRow.locator('td.reason').textContent();
  if (!/operator/.test(listedReason)) throw new Error(`the listed end reason is ${JSON.stringify(listedReason)}`);
  pass(`filters: "${searchWord}", agent and the call's day find only that call; other words or a later day find none`);

  await storedRow.locator('button.select').click();
  await page.locator('#record-panel[aria-busy="false"] #record').waitFor();
  const recordTitle = await page.locator('#record-title').textContent();
  if (recordTitle !== uuid) throw new Error(`the detail shows call ${recordTitle}`);
  const storedTurns = page.locator('#record-transcript li.turn');
  const roles = await storedTurns.locator('.who').allTextContents();
  if (roles.length < 2 || !roles.includes('Caller') || !roles.includes('Agent')) {
    throw new Error(`the stored transcript shows the turns ${JSON.stringify(roles)}`);
  }
  const storedTexts = await storedTurns.locator('.what').allTextContents();
  if (!storedTexts.includes(callerLine)) throw new Error(`the caller's line ${JSON.stringify(callerLine)} is not in the stored transcript`);
  const endReason = await page.locator('#record-facts dt:text-is("end reason") + dd').textContent();
  if (!/operator/.test(endReason)) throw new Error(`the stored end reason is ${JSON.stringify(endReason)}`);
  await page.locator('#record-dtmf li', { hasText: 'pressed by the caller' }).first().waitFor();
  const digits = await page.locator('#record-dtmf li .mono').first().textContent();
  if (digits !== '5') throw new Error(`the stored DTMF shows ${JSON.stringify(digits)}, not 5`);
  pass(`the stored call shows ${roles.length} turns (${[...new Set(roles)].join(', ')}), DTMF 5 and the end reason "${endReason}"`);

  const shownSummary = await page.locator('#record-summary').textContent();
  if (shownSummary !== summary) throw new Error(`the post-call summary is shown as ${JSON.stringify(shownSummary)}`);
  await page.locator('#record-post-call dd', { hasText: 'Call ended by the operator' }).waitFor();
  await page.locator('#record-post-call dd', { hasText: '412' }).waitFor();
  const injectedSummary = await page.evaluate(() => ({
    xss: window.__xss,
    elements: document.querySelectorAll('#record img, #record script').length,
  }));
  if (injectedSummary.xss !== undefined || injectedSummary.elements !== 0) {
    throw new Error(`stored text became markup: ${JSON.stringify(injectedSummary)}`);
  }
  pass('the post-call summary, termination reason and cost are shown, the summary as text');

  const historyShot = path.join(artifactDir, 'dashboard-e2e-history.png');
  await page.screenshot({ path: historyShot, fullPage: true });
  console.log(`screenshot: ${historyShot}`);

  await page.reload();
  await page.locator('#history-view').waitFor({ state: 'visible' });
  await storedRow.waitFor();
  await page.goBack();
  await page.locator('#live-view').waitFor({ state: 'visible' });
  pass('the view is kept in the address: a reload stays in the history, the back button returns to the live view');

  if (server.exited) throw new Error(`callbridge died during the test (${JSON.stringify(server.exited)})`);
  if (foreignRequests.length) throw new Error(`requests left the server's origin:\n  ${foreignRequests.join('\n  ')}`);
  if (consoleErrors.length) throw new Error(`console errors:\n  ${consoleErrors.join('\n  ')}`);
  pass('no console errors, no request outside the server');

  // Last, as the browser rightly logs the refused connections meanwhile: a server restart, with a
  // database that cannot be opened (its directory does not exist).
  const errorsBeforeRestart = consoleErrors.length;
  await stop(server);
  await page.locator('#connection[data-state="offline"]').waitFor({ timeout: 5000 });
  const restarted = await startServer('callbridge-restarted', { DB_URL: `sqlite:${path.join(workDir, 'absent', 'calls.db')}` });
  await page.locator('#connection[data-state="ok"]').waitFor({ timeout: 10000 });
  pass('the page notices the server going away and reconnects its WebSocket when it is back');

  await page.click('#view-history');
  await search();
  await page.locator('#history-notice-title', { hasText: 'database unavailable' }).waitFor();
  await page.locator('#history-notice-text', { hasText: 'unable to open database file' }).waitFor();
  await stop(restarted);
  await startServer('callbridge-no-store', { DB_URL: 'none' });
  await search();
  await page.locator('#history-notice-title', { hasText: 'Call store disabled' }).waitFor();
  if (await page.locator('#history-results').isVisible()) throw new Error('the history list stays up without a store');
  // Refused connections while the server was away are expected; an HTTP error answer is not.
  const failedAnswers = consoleErrors.slice(errorsBeforeRestart).filter((line) => /status of [45]\d\d/.test(line));
  if (failedAnswers.length) throw new Error(`the history view made failing requests:\n  ${failedAnswers.join('\n  ')}`);
  pass('without a usable store the history view says "database unavailable" or "disabled", with no failed request');
}

async function cleanUp() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  await stopAll();
  saveLogs();
  for (const proc of processes) {
    const { code, signal } = proc.exited;
    console.log(`${proc.name} exited with ${signal || `code ${code}`}`);
  }
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = '';
}

let finished = false;
async function finish(error) {
  if (finished) return;
  finished = true;
  if (error) {
    console.log(`not ok ${checks + 1} - ${error.message}`);
    for (const proc of processes) console.log(`--- ${proc.name} (last lines) ---\n${tail(proc.output)}`);
  }
  await cleanUp();
  console.log(`${checks} passed, ${error ? 1 : 0} failed`);
  process.exit(error ? 1 : 0);
}

// A hard stop: whatever hangs, the processes are killed and the test fails in bounded time.
setTimeout(() => finish(new Error(`time limit of ${TIME_LIMIT_MS / 1000} s exceeded`)), TIME_LIMIT_MS).unref();
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => finish(new Error(`stopped by ${signal}`)));
process.on('exit', () => {
  for (const proc of processes) if (!proc.exited) proc.child.kill('SIGKILL');
});

run().then(() => finish(null), (error) => finish(error));
