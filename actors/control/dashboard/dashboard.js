// callbridge's ops dashboard (docs/dashboard.md): live calls, transcripts, operator actions,
// service health, actor metrics, a log tail and the history of stored calls, from the control API
// (docs/api.md) on the port that serves this file. Plain DOM, no framework, no build step.
//
// Every string the server sends reaches the page as text (textContent, DOM properties), never as
// markup: a transcript or a log line can contain anything a caller or an agent said.
'use strict';

(() => {
  const TOKEN_KEY = 'callbridge.api_token';
  const CALLS_POLL_MS = 1000;
  const STATUS_POLL_MS = 5000;
  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 15000;
  // The metrics stream sends a snapshot each second: this much silence means a dead connection.
  const STREAM_SILENCE_MS = 10000;
  const LOG_KEEP = 2000;
  const LOG_SHOW = 500;
  const TRANSCRIPT_KEEP = 500;
  const TRANSCRIPTS_KEPT = 50;
  const HANGUP_CONFIRM_MS = 4000;
  const AGENT_FAILURE_WINDOW_MS = 60000;
  const LEVEL_FLOOR_DBFS = -60;
  const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];
  const HISTORY_PAGE_SIZE = 25;
  const AGENTS_OFFERED = 200;

  // What the transcript panel calls each kind of the transcripts stream (protocol/control_api.cpp
  // stream_of_event); every other kind is a call event, shown under its own name.
  const TURN_LABELS = {
    user_transcript: 'Caller',
    agent_response: 'Agent',
    agent_response_correction: 'Agent (corrected)',
    interruption: 'Interrupted',
    client_tool_call: 'Tool call',
    agent_tool_response: 'Agent tool',
    tool_call: 'Tool call',
    tool_result: 'Tool result',
  };

  // The roles of stored transcript turns (docs/store.md, transcript_turns).
  const ROLE_LABELS = { user: 'Caller', agent: 'Agent' };

  const number = new Intl.NumberFormat('en');

  const state = {
    token: '',
    session: 0, // bumped on every sign-in and sign-out: stale callbacks compare and give up
    rows: new Map(), // uuid -> the row's elements
    calls: new Map(), // uuid -> {summary, at}: the last listing and when it arrived
    ended: new Map(), // uuid -> Date.now() of its call_ended: a listing in flight must not revive it
    selected: '',
    transcripts: new Map(), // uuid -> {entries, keys, backfill}
    ws: null,
    reconnectAttempt: 0,
    reconnectTimer: 0,
    reconnectAt: 0,
    lastStreamMessage: 0,
    metricsSeen: false,
    previousMetrics: null,
    agentFailureAt: 0,
    logs: [],
    components: new Set(),
    logsHeldWhilePaused: 0,
    streamDropped: 0,
    // What GET /api/status last said of the call store: undefined (not asked yet), null (none
    // configured, or it did not answer), else its figures.
    storeStatus: undefined,
    agents: new Set(), // agent ids seen, offered in the history's agent filter
    stored: {
      loaded: false, // the history list was asked for since the sign-in
      filters: null, // the filters of the page shown (the pager keeps them)
      offset: 0,
      generation: 0, // bumped per list request: an older answer is dropped
      selected: '',
      detailGeneration: 0,
    },
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    connection: $('connection'),
    readiness: $('readiness'),
    clock: $('clock'),
    signOut: $('sign-out'),
    views: $('views'),
    viewLive: $('view-live'),
    viewHistory: $('view-history'),
    liveView: $('live-view'),
    historyView: $('history-view'),
    login: $('login'),
    loginForm: $('login-form'),
    tokenInput: $('token-input'),
    loginError: $('login-error'),
    app: $('app'),
    readyChecks: $('ready-checks'),
    amiFacts: $('ami-facts'),
    agentFacts: $('agent-facts'),
    storeFacts: $('store-facts'),
    processFacts: $('process-facts'),
    callCount: $('call-count'),
    callsBody: document.querySelector('#calls tbody'),
    noCalls: $('no-calls'),
    callsError: $('calls-error'),
    callTitle: $('call-title'),
    callMeta: $('call-meta'),
    callOpenHistory: $('call-open-history'),
    transcript: $('transcript'),
    callControls: $('call-controls'),
    whisperForm: $('whisper-form'),
    whisperText: $('whisper-text'),
    whisperType: $('whisper-type'),
    transferForm: $('transfer-form'),
    transferDestination: $('transfer-destination'),
    callResult: $('call-result'),
    actorsBody: document.querySelector('#actors tbody'),
    noActors: $('no-actors'),
    logLevel: $('log-level'),
    logComponent: $('log-component'),
    logCall: $('log-call'),
    logText: $('log-text'),
    logPause: $('log-pause'),
    logClear: $('log-clear'),
    logStats: $('log-stats'),
    logs: $('logs'),
    historyPanel: $('history-panel'),
    historyCount: $('history-count'),
    historyFilters: $('history-filters'),
    historyFrom: $('history-from'),
    historyTo: $('history-to'),
    historyAgent: $('history-agent'),
    historyAgents: $('history-agents'),
    historyText: $('history-text'),
    historyReset: $('history-reset'),
    historyNotice: $('history-notice'),
    historyNoticeTitle: $('history-notice-title'),
    historyNoticeText: $('history-notice-text'),
    historyResults: $('history-results'),
    historyBody: document.querySelector('#history-calls tbody'),
    historyEmpty: $('history-empty'),
    historyNewer: $('history-newer'),
    historyOlder: $('history-older'),
    historyRange: $('history-range'),
    historyError: $('history-error'),
    recordPanel: $('record-panel'),
    recordTitle: $('record-title'),
    recordStatus: $('record-status'),
    record: $('record'),
    recordFacts: $('record-facts'),
    recordTurnCount: $('record-turn-count'),
    recordTranscript: $('record-transcript'),
    recordToolsSection: $('record-tools-section'),
    recordTools: $('record-tools'),
    recordDtmfSection: $('record-dtmf-section'),
    recordDtmf: $('record-dtmf'),
    recordPostCallSection: $('record-post-call-section'),
    recordPostCall: $('record-post-call'),
    recordSummary: $('record-summary'),
    recordAnalysisSection: $('record-analysis-section'),
    recordAnalysis: $('record-analysis'),
  };

  // --- small helpers ---------------------------------------------------------------------------

  // Builds an element; text and attribute values go in through the DOM, never parsed as HTML.
  function el(tag, options = {}, children = []) {
    const node = document.createElement(tag);
    if (options.className) node.className = options.className;
    if (options.text !== undefined) node.textContent = String(options.text);
    if (options.title !== undefined) node.title = String(options.title);
    if (options.type) node.type = options.type;
    if (options.dataset) Object.assign(node.dataset, options.dataset);
    for (const child of children) node.append(child);
    return node;
  }

  function setText(node, text) {
    const value = String(text);
    if (node.textContent !== value) node.textContent = value;
  }

  function shortId(uuid) {
    return String(uuid).slice(0, 8);
  }

  function formatDuration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }

  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
  }

  // Seconds (as the metrics report handler times) as µs or ms.
  function formatSeconds(seconds) {
    if (!Number.isFinite(seconds) || seconds <= 0) return '0';
    if (seconds < 0.001) return `${(seconds * 1e6).toFixed(seconds < 1e-5 ? 1 : 0)} µs`;
    if (seconds < 1) return `${(seconds * 1000).toFixed(1)} ms`;
    return `${seconds.toFixed(2)} s`;
  }

  function formatCount(value) {
    return Number.isFinite(value) ? number.format(value) : '–';
  }

  function formatTime(unixMs) {
    if (!Number.isFinite(unixMs) || unixMs <= 0) return '';
    return new Date(unixMs).toLocaleTimeString('en-GB', { hour12: false });
  }

  function formatDateTime(unixMs) {
    if (!Number.isFinite(unixMs) || unixMs <= 0) return '';
    const d = new Date(unixMs);
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    return `${day} ${formatTime(unixMs)}`;
  }

  // A stored offset (milliseconds into the call) as m:ss.s.
  function formatOffset(ms) {
    if (!Number.isFinite(ms) || ms < 0) return '';
    const tenths = Math.floor(ms / 100);
    return `${Math.floor(tenths / 600)}:${((tenths % 600) / 10).toFixed(1).padStart(4, '0')}`;
  }

  function formatLevel(dbfs) {
    return Number.isFinite(dbfs) && dbfs > -120 ? `${dbfs.toFixed(1)} dBFS` : 'silent';
  }

  function nearBottom(node) {
    return node.scrollHeight - node.scrollTop - node.clientHeight < 40;
  }

  // --- HTTP ------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.code = body && body.error;
    }
  }

  // {status, data}; a refused token signs out and throws.
  async function request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const session = state.session;
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { error: 'bad_response', message: text.slice(0, 200) };
      }
    }
    if (response.status === 401 || response.status === 403) {
      if (session === state.session) signOut((data && data.message) || 'the token was refused');
      throw new ApiError(response.status, data);
    }
    return { status: response.status, data };
  }

  async function api(method, path, body) {
    const { status, data } = await request(method, path, body);
    if (status >= 400) throw new ApiError(status, data);
    return data;
  }

  function callPath(uuid, suffix = '') {
    return `/api/calls/${encodeURIComponent(uuid)}${suffix}`;
  }

  // Runs task every periodMs, never two at once; kick() runs it now.
  function poller(task, periodMs) {
    let timer = 0;
    let running = false;
    let again = false;
    let active = false;
    async function run() {
      timer = 0;
      if (!active) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await task();
      } catch (error) {
        // Tasks show the failures they expect; anything else is a bug to see in the console.
        console.error(error);
      }
      running = false;
      if (!active) return;
      if (again) {
        again = false;
        run();
      } else {
        timer = setTimeout(run, periodMs);
      }
    }
    return {
      start() {
        active = true;
        run();
      },
      stop() {
        active = false;
        clearTimeout(timer);
        timer = 0;
      },
      kick() {
        if (!active) return;
        clearTimeout(timer);
        run();
      },
    };
  }

  const callsPoller = poller(refreshCalls, CALLS_POLL_MS);
  const statusPoller = poller(refreshStatus, STATUS_POLL_MS);

  // --- sign-in ---------------------------------------------------------------------------------

  function showLogin(message) {
    ui.app.hidden = true;
    ui.signOut.hidden = true;
    ui.views.hidden = true;
    ui.login.hidden = false;
    setText(ui.loginError, message || '');
    ui.tokenInput.focus();
  }

  function start(token) {
    state.token = token;
    state.session += 1;
    state.reconnectAttempt = 0;
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.signOut.hidden = false;
    ui.views.hidden = false;
    state.stored.loaded = false;
    callsPoller.start();
    statusPoller.start();
    connectStream(state.session);
    showView(viewFromLocation());
  }

  function signOut(message) {
    state.session += 1;
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    callsPoller.stop();
    statusPoller.stop();
    clearTimeout(state.reconnectTimer);
    if (state.ws) {
      const ws = state.ws;
      state.ws = null;
      ws.close(1000, 'signed out');
    }
    setConnection('offline', 'offline');
    showLogin(message);
  }

  // --- live calls ------------------------------------------------------------------------------

  async function refreshCalls() {
    try {
      const data = await api('GET', '/api/calls');
      renderCalls(Array.isArray(data && data.calls) ? data.calls : []);
      setText(ui.callsError, '');
    } catch (error) {
      if (!(error instanceof ApiError && (error.status === 401 || error.status === 403))) {
        setText(ui.callsError, `Live calls: ${error.message}`);
      }
    }
  }

  function renderCalls(list) {
    const now = Date.now();
    for (const [uuid, at] of state.ended) {
      if (now - at > 60000) state.ended.delete(uuid);
    }
    const live = list.filter((call) => call && typeof call.uuid === 'string' && !state.ended.has(call.uuid));
    const seen = new Set();
    live.forEach((call, index) => {
      seen.add(call.uuid);
      noteAgent(call.agent_id);
      state.calls.set(call.uuid, { summary: call, at: performance.now() });
      let row = state.rows.get(call.uuid);
      if (!row) {
        row = createRow(call.uuid);
        state.rows.set(call.uuid, row);
      }
      updateRow(row, call);
      const atIndex = ui.callsBody.children[index];
      if (atIndex !== row.tr) ui.callsBody.insertBefore(row.tr, atIndex || null);
    });
    for (const uuid of [...state.rows.keys()]) {
      if (!seen.has(uuid)) removeCall(uuid);
    }
    updateCallCount();
    if (state.selected) renderCallMeta();
  }

  function updateCallCount() {
    setText(ui.callCount, state.rows.size);
    ui.noCalls.hidden = state.rows.size > 0;
  }

  function levelCell() {
    const meter = document.createElement('meter');
    meter.min = LEVEL_FLOOR_DBFS;
    meter.max = 0;
    meter.low = -45;
    meter.high = -6;
    meter.optimum = -20;
    meter.value = LEVEL_FLOOR_DBFS;
    const label = el('span', { className: 'level-text' });
    return { td: el('td', { className: 'level' }, [meter, label]), meter, label };
  }

  function createRow(uuid) {
    const select = el('button', { className: 'link select mono', type: 'button', text: shortId(uuid), title: uuid });
    const sub = el('div', { className: 'sub muted' });
    const agent = el('td', { className: 'agent' });
    const stateBadge = el('span', { className: 'state' });
    const duration = el('td', { className: 'num duration' });
    const caller = levelCell();
    const agentLevel = levelCell();
    const firstWord = el('td', { className: 'num' });
    const frames = el('td', { className: 'num frames' });
    const hangup = el('button', { className: 'danger hangup', type: 'button', text: 'Hang up' });
    const transfer = el('button', { className: 'transfer', type: 'button', text: 'Transfer' });
    const whisper = el('button', { className: 'whisper', type: 'button', text: 'Whisper' });
    const tr = el('tr', { dataset: { uuid } }, [
      el('td', { className: 'call' }, [select, sub]),
      agent,
      el('td', {}, [stateBadge]),
      duration,
      caller.td,
      agentLevel.td,
      firstWord,
      frames,
      el('td', { className: 'actions' }, [hangup, transfer, whisper]),
    ]);
    const row = { tr, sub, agent, stateBadge, duration, caller, agentLevel, firstWord, frames, hangup, confirmTimer: 0 };
    select.addEventListener('click', () => selectCall(uuid));
    transfer.addEventListener('click', () => {
      selectCall(uuid);
      ui.transferDestination.focus();
    });
    whisper.addEventListener('click', () => {
      selectCall(uuid);
      ui.whisperText.focus();
    });
    hangup.addEventListener('click', () => onHangup(uuid, row));
    return row;
  }

  function setLevel(cell, dbfs) {
    const value = Number.isFinite(dbfs) ? Math.max(LEVEL_FLOOR_DBFS, Math.min(0, dbfs)) : LEVEL_FLOOR_DBFS;
    cell.meter.value = value;
    setText(cell.label, formatLevel(dbfs));
  }

  function updateRow(row, call) {
    const who = [call.caller_id, call.called_number].filter(Boolean).join(' → ');
    setText(row.sub, [who, call.channel].filter(Boolean).join(' · ') || call.source || '');
    setText(row.agent, call.agent_id || '(default)');
    row.agent.title = call.conversation_id ? `conversation ${call.conversation_id}` : '';
    if (!row.hangingUp) {
      setText(row.stateBadge, call.state);
      row.stateBadge.dataset.state = call.state;
    }
    setText(row.duration, formatDuration(call.duration_ms));
    setLevel(row.caller, call.caller_level_dbfs);
    setLevel(row.agentLevel, call.agent_level_dbfs);
    setText(row.firstWord, call.first_word_ms >= 0 ? `${formatCount(call.first_word_ms)} ms` : '–');
    setText(row.frames, `${formatCount(call.frames_in)} / ${formatCount(call.frames_out)}`);
    const problems = [];
    if (call.late_frames > 0) problems.push(`${formatCount(call.late_frames)} late`);
    if (call.underruns > 0) problems.push(`${formatCount(call.underruns)} underruns`);
    row.frames.title = problems.join(', ') || 'no late frames or underruns';
    row.frames.classList.toggle('warn', problems.length > 0);
    row.tr.classList.toggle('selected', call.uuid === state.selected);
  }

  // Between listings the durations of running calls advance with the clock.
  function tickDurations() {
    const now = performance.now();
    for (const [uuid, row] of state.rows) {
      const known = state.calls.get(uuid);
      if (!known || known.summary.state === 'ending') continue;
      setText(row.duration, formatDuration(known.summary.duration_ms + (now - known.at)));
    }
  }

  function removeCall(uuid) {
    const row = state.rows.get(uuid);
    if (row) {
      clearTimeout(row.confirmTimer);
      row.tr.remove();
      state.rows.delete(uuid);
    }
    state.calls.delete(uuid);
    updateCallCount();
    if (uuid === state.selected) renderCallMeta();
  }

  // Two clicks: the first arms the button for a few seconds, the second hangs up.
  async function onHangup(uuid, row) {
    if (!row.armed) {
      row.armed = true;
      row.hangup.classList.add('armed');
      setText(row.hangup, 'Confirm hang-up');
      row.confirmTimer = setTimeout(() => disarm(row), HANGUP_CONFIRM_MS);
      return;
    }
    disarm(row);
    row.hangup.disabled = true;
    row.hangingUp = true;
    setText(row.stateBadge, 'hanging up');
    row.stateBadge.dataset.state = 'ending';
    try {
      await api('DELETE', callPath(uuid));
      callsPoller.kick();
    } catch (error) {
      row.hangingUp = false;
      row.hangup.disabled = false;
      if (error instanceof ApiError && error.status === 404) {
        removeCall(uuid);
      } else {
        setText(ui.callsError, `Hang-up of ${shortId(uuid)}: ${error.message}`);
      }
    }
  }

  function disarm(row) {
    clearTimeout(row.confirmTimer);
    row.armed = false;
    row.hangup.classList.remove('armed');
    setText(row.hangup, 'Hang up');
  }

  // --- the selected call: transcript and operator actions ---------------------------------------

  function transcriptOf(uuid) {
    let transcript = state.transcripts.get(uuid);
    if (!transcript) {
      transcript = { entries: [], keys: new Set(), backfill: 'none' };
      state.transcripts.set(uuid, transcript);
      // Keep the transcripts of live calls and the selected one; forget the oldest others.
      for (const old of state.transcripts.keys()) {
        if (state.transcripts.size <= TRANSCRIPTS_KEPT) break;
        if (old !== state.selected && !state.rows.has(old)) state.transcripts.delete(old);
      }
    }
    return transcript;
  }

  // Turns carry the agent protocol's event ids; call events (id 0) are told apart by their text.
  function entryKey(entry) {
    return `${entry.kind}\u0000${entry.event_id}\u0000${entry.text}`;
  }

  function addEntry(uuid, entry) {
    const transcript = transcriptOf(uuid);
    const key = entryKey(entry);
    if (entry.event_id > 0 && transcript.keys.has(key)) return;
    transcript.keys.add(key);
    transcript.entries.push(entry);
    if (transcript.entries.length > TRANSCRIPT_KEEP) transcript.entries.shift();
    if (uuid === state.selected) appendTranscriptItem(entry);
  }

  function transcriptItem(entry) {
    const label = TURN_LABELS[entry.kind];
    const item = el('li', { className: label ? 'turn' : 'event', dataset: { kind: String(entry.kind) } }, [
      el('span', { className: 'who', text: label || String(entry.kind).replace(/_/g, ' ') }),
      el('span', { className: 'when muted', text: formatTime(entry.ts) }),
      el('span', { className: 'what', text: entry.text || '' }),
    ]);
    return item;
  }

  function appendTranscriptItem(entry) {
    const follow = nearBottom(ui.transcript);
    ui.transcript.append(transcriptItem(entry));
    while (ui.transcript.children.length > TRANSCRIPT_KEEP) ui.transcript.firstElementChild.remove();
    if (follow) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function renderTranscript() {
    const transcript = state.selected ? transcriptOf(state.selected) : null;
    ui.transcript.replaceChildren(...(transcript ? transcript.entries.map(transcriptItem) : []));
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function renderCallMeta() {
    const uuid = state.selected;
    ui.callOpenHistory.hidden = true;
    if (!uuid) {
      setText(ui.callTitle, 'none selected');
      setText(ui.callMeta, 'Pick a call in the list to follow its transcript.');
      ui.callControls.hidden = true;
      return;
    }
    setText(ui.callTitle, uuid);
    const known = state.calls.get(uuid);
    const transcript = transcriptOf(uuid);
    if (state.rows.has(uuid) && known) {
      const c = known.summary;
      const parts = [`agent ${c.agent_id || '(default)'}`];
      if (c.conversation_id) parts.push(`conversation ${c.conversation_id}`);
      if (c.channel) parts.push(`channel ${c.channel}`);
      if (c.transfer_target) parts.push(`transferred to ${c.transfer_target}`);
      setText(ui.callMeta, parts.join(' · '));
      ui.callControls.hidden = false;
    } else {
      setText(ui.callMeta, transcript.endedBecause ? `Ended: ${transcript.endedBecause}` : 'Ended.');
      ui.callControls.hidden = true;
      // The store has the whole call once it ended; without a reachable store there is nothing to open.
      ui.callOpenHistory.hidden = !(state.storeStatus && state.storeStatus.database_up);
    }
  }

  function selectCall(uuid) {
    if (state.selected === uuid) return;
    state.selected = uuid;
    for (const [id, row] of state.rows) row.tr.classList.toggle('selected', id === uuid);
    setText(ui.callResult, '');
    renderCallMeta();
    renderTranscript();
    backfillTranscript(uuid);
  }

  // What the call said before the page saw it: GET /api/calls/{uuid} lists its recent events.
  async function backfillTranscript(uuid) {
    const transcript = transcriptOf(uuid);
    if (transcript.backfill !== 'none' || !state.rows.has(uuid)) return;
    transcript.backfill = 'loading';
    try {
      const detail = await api('GET', callPath(uuid));
      const earlier = (Array.isArray(detail.events) ? detail.events : []).map((e) => ({
        kind: e.kind,
        text: e.text,
        event_id: e.event_id,
        ts: 0,
      }));
      const earlierKeys = new Set(earlier.map(entryKey));
      const streamed = transcript.entries.filter((e) => !earlierKeys.has(entryKey(e)));
      transcript.entries = [...earlier, ...streamed].slice(-TRANSCRIPT_KEEP);
      transcript.keys = new Set(transcript.entries.map(entryKey));
      transcript.backfill = 'done';
      if (uuid === state.selected) renderTranscript();
    } catch (error) {
      transcript.backfill = 'none';
      if (uuid === state.selected && !(error instanceof ApiError && error.status === 404)) {
        setText(ui.callResult, `Transcript: ${error.message}`);
      }
    }
  }

  async function onWhisper(event) {
    event.preventDefault();
    const uuid = state.selected;
    const text = ui.whisperText.value.trim();
    if (!uuid || !text) return;
    setText(ui.callResult, 'Sending…');
    try {
      const answer = await api('POST', callPath(uuid, '/message'), { type: ui.whisperType.value, text });
      setText(ui.callResult, answer && answer.delivered ? 'Delivered to the agent.' : 'Not delivered (no agent session).');
      ui.whisperText.value = '';
    } catch (error) {
      setText(ui.callResult, `Whisper failed: ${error.message}`);
    }
  }

  async function onTransfer(event) {
    event.preventDefault();
    const uuid = state.selected;
    const destination = ui.transferDestination.value.trim();
    if (!uuid || !destination) return;
    setText(ui.callResult, 'Transferring…');
    try {
      const answer = await api('POST', callPath(uuid, '/transfer'), { destination });
      setText(ui.callResult, `Transferred to ${(answer && answer.target) || destination}.`);
      ui.transferDestination.value = '';
    } catch (error) {
      setText(ui.callResult, `Transfer failed: ${error.message}`);
    }
  }

  function onCallEvent(message) {
    if (typeof message.call !== 'string' || !message.call) return;
    const uuid = message.call;
    addEntry(uuid, { kind: message.kind, text: message.text, event_id: message.event_id, ts: message.ts });
    if (message.type !== 'event') return;
    if (message.kind === 'call_ended') {
      transcriptOf(uuid).endedBecause = message.text || '';
      state.ended.set(uuid, Date.now());
      removeCall(uuid);
    } else if (message.kind === 'call_started' || !state.rows.has(uuid)) {
      callsPoller.kick();
    }
  }

  // --- health ----------------------------------------------------------------------------------

  // [label, value, level] rows; level ('ok', 'warn', 'bad') colours the value.
  function renderFacts(dl, facts) {
    dl.replaceChildren(
      ...facts.flatMap(([label, value, level]) => [
        el('dt', { text: label }),
        el('dd', { text: value, className: level || '' }),
      ]),
    );
  }

  async function refreshStatus() {
    await Promise.all([refreshReadiness(), refreshServiceStatus()]);
  }

  async function refreshReadiness() {
    try {
      const { status, data } = await request('GET', '/readyz');
      const checks = (data && data.checks) || {};
      const ready = status === 200 && data && data.ready === true;
      setBadge(ui.readiness, ready ? 'ok' : 'bad', ready ? 'ready' : 'not ready');
      const describe = {
        audiosocket: (c) => `AudioSocket ${Array.isArray(c.ports) && c.ports.length ? `ports ${c.ports.join(', ')}` : 'not listening'}`,
        ami: (c) => `AMI ${c.state}`,
        ports: (c) => (c.shared_port ? 'shared port on' : `pool ${c.pool_free} of ${c.pool_total} free`),
        memory: (c) => `memory ${formatBytes(c.rss_bytes)}${c.limit_bytes ? ` of ${formatBytes(c.limit_bytes)}` : ''}`,
      };
      ui.readyChecks.replaceChildren(
        ...Object.entries(checks).map(([name, check]) =>
          el('li', { className: check && check.ok ? 'ok' : 'bad', dataset: { check: name } }, [
            describe[name] ? describe[name](check || {}) : name,
          ]),
        ),
      );
    } catch (error) {
      setBadge(ui.readiness, 'unknown', 'readiness unknown');
      ui.readyChecks.replaceChildren(el('li', { className: 'bad', text: error.message }));
    }
  }

  async function refreshServiceStatus() {
    try {
      renderServiceStatus(await api('GET', '/api/status'));
    } catch (error) {
      renderFacts(ui.amiFacts, [['status', error.message, 'bad']]);
    }
  }

  function renderServiceStatus(status) {
    state.storeStatus = status.store && status.store.backend ? status.store : null;
    renderAmi(status.ami);
    renderStore(status.store, status.api);
    if (state.selected) renderCallMeta();
  }

  function renderAmi(ami) {
    if (!ami || ami.state === 'no_answer') {
      renderFacts(ui.amiFacts, [['state', 'no answer', 'bad']]);
      return;
    }
    if (ami.state === 'disabled') {
      renderFacts(ui.amiFacts, [['state', 'disabled (no ASTERISK_HOST)', 'muted']]);
      return;
    }
    const facts = [
      ['state', ami.state, ami.state === 'connected' ? 'ok' : 'bad'],
      ['server', ami.server || '–'],
      ['Asterisk', ami.asterisk_version || '–'],
      ['since', formatTime(ami.state_since_unix_ms) || '–'],
      ['connects / failures', `${formatCount(ami.connects)} / ${formatCount(ami.failures)}`, ami.failures > 0 ? 'warn' : ''],
      ['channels / watched', `${formatCount(ami.channels)} / ${formatCount(ami.watched)}`],
      ['actions / events', `${formatCount(ami.actions_sent)} / ${formatCount(ami.events_seen)}`],
    ];
    if (ami.last_error) facts.push(['last error', ami.last_error, 'bad']);
    renderFacts(ui.amiFacts, facts);
  }

  function renderStore(store, apiFigures) {
    const facts = [];
    if (!store || store.state === 'disabled') {
      facts.push(['store', 'off (DB_URL=none)', 'muted']);
    } else if (store.state === 'no_answer') {
      facts.push(['store', 'no answer', 'bad']);
    } else {
      facts.push(['backend', store.backend]);
      facts.push(['database', store.database_up ? 'up' : 'down', store.database_up ? 'ok' : 'bad']);
      facts.push(['written / queued', `${formatCount(store.written)} / ${formatCount(store.queued)}`]);
      facts.push(['journaled / dropped', `${formatCount(store.journaled)} / ${formatCount(store.dropped)}`, store.dropped > 0 ? 'warn' : '']);
      if (store.last_error) facts.push(['last error', store.last_error, 'bad']);
    }
    if (apiFigures) {
      facts.push(['API clients', formatCount(apiFigures.websocket_clients)]);
      facts.push(['API requests', formatCount(apiFigures.http_requests)]);
      const dropped = (apiFigures.stream_messages_dropped || 0) + (apiFigures.log_records_dropped || 0);
      facts.push(['stream drops', formatCount(dropped), dropped > 0 ? 'warn' : '']);
    }
    renderFacts(ui.storeFacts, facts);
  }

  function setBadge(node, level, text) {
    node.dataset.state = level;
    setText(node, text);
  }

  // --- call history: stored calls and their transcripts ----------------------------------------

  function viewFromLocation() {
    return location.hash === '#history' ? 'history' : 'live';
  }

  function showView(view) {
    const history = view === 'history';
    ui.liveView.hidden = history;
    ui.historyView.hidden = !history;
    ui.viewLive.setAttribute('aria-selected', String(!history));
    ui.viewHistory.setAttribute('aria-selected', String(history));
    if (history && !state.stored.loaded) loadHistory(historyFilters(), 0);
  }

  // The view goes into the address, so a reload or the back button keeps to it.
  function goToView(view) {
    const hash = view === 'history' ? '#history' : '';
    if (location.hash !== hash) window.history.pushState(null, '', `${location.pathname}${location.search}${hash}`);
    showView(view);
  }

  function noteAgent(id) {
    if (typeof id !== 'string' || !id || state.agents.has(id) || state.agents.size >= AGENTS_OFFERED) return;
    state.agents.add(id);
    const option = document.createElement('option');
    option.value = id;
    ui.historyAgents.append(option);
  }

  function historyFilters() {
    return {
      from: ui.historyFrom.value,
      to: ui.historyTo.value,
      agent: ui.historyAgent.value.trim(),
      q: ui.historyText.value.trim(),
    };
  }

  // A date input's day (YYYY-MM-DD) as the local midnight `days` later, in Unix ms; 0 for none.
  function localMidnight(day, days = 0) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    if (!match) return 0;
    return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days).getTime();
  }

  // The store selects from <= started < to: "to" a day takes in the whole of that day.
  function historyPath(filters, offset) {
    const params = [
      ['from', localMidnight(filters.from)],
      ['to', localMidnight(filters.to, 1)],
      ['agent', filters.agent],
      ['q', filters.q],
      ['limit', HISTORY_PAGE_SIZE],
      ['offset', offset],
    ].filter(([name, value]) => value || name === 'offset');
    return `/api/history?${params.map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join('&')}`;
  }

  function isAuthError(error) {
    return error instanceof ApiError && (error.status === 401 || error.status === 403);
  }

  // The store's two 503s, and what GET /api/status says before asking: a clear notice instead of
  // a failed request (the browser logs each 4xx/5xx answer as a console error).
  function showStoreNotice(kind, detail) {
    ui.historyNotice.hidden = false;
    ui.historyResults.hidden = true;
    setText(ui.historyCount, '–');
    setText(ui.historyError, '');
    if (kind === 'disabled') {
      ui.historyNotice.dataset.level = 'warn';
      setText(ui.historyNoticeTitle, 'Call store disabled');
      setText(
        ui.historyNoticeText,
        'The server keeps no call records (DB_URL=none).',
      );
    } else {
      ui.historyNotice.dataset.level = 'bad';
      setText(ui.historyNoticeTitle, 'Call store database unavailable');
      setText(
        ui.historyNoticeText,
        'New records wait in the journal and are stored once the database is back. Search again to retry.' +
          (detail ? ` Last error: ${detail}` : ''),
      );
    }
  }

  async function loadHistory(filters, offset) {
    const stored = state.stored;
    stored.loaded = true;
    const from = localMidnight(filters.from);
    const to = localMidnight(filters.to, 1);
    if (from && to && from >= to) {
      setText(ui.historyError, 'From is after To.');
      return;
    }
    const generation = ++stored.generation;
    const session = state.session;
    const current = () => generation === stored.generation && session === state.session;
    setText(ui.historyError, '');
    stored.filters = filters;
    stored.offset = offset;
    setText(ui.historyRange, 'Loading…');
    ui.historyPanel.setAttribute('aria-busy', 'true');
    try {
      const status = await api('GET', '/api/status');
      if (!current()) return;
      renderServiceStatus(status);
      if (!status.store || status.store.state === 'disabled') {
        showStoreNotice('disabled');
        return;
      }
      if (!status.store.database_up) {
        showStoreNotice('unavailable', status.store.last_error || 'the call store did not answer');
        return;
      }
      const page = await api('GET', historyPath(filters, offset));
      if (current()) renderHistory(page, filters);
    } catch (error) {
      if (!current() || isAuthError(error)) return;
      setText(ui.historyRange, '');
      if (error instanceof ApiError && error.code === 'store_disabled') {
        showStoreNotice('disabled');
      } else if (error instanceof ApiError && error.code === 'store_unavailable') {
        showStoreNotice('unavailable', error.message);
      } else {
        setText(ui.historyError, `History: ${error.message}`);
      }
    } finally {
      if (current()) ui.historyPanel.setAttribute('aria-busy', 'false');
    }
  }

  function renderHistory(page, filters) {
    const calls = (Array.isArray(page && page.calls) ? page.calls : []).filter((call) => call && typeof call.uuid === 'string');
    const total = Number(page.total) || 0;
    const offset = Number(page.offset) || 0;
    ui.historyNotice.hidden = true;
    ui.historyResults.hidden = false;
    for (const call of calls) noteAgent(call.agent_id);
    ui.historyBody.replaceChildren(...calls.map(historyRow));
    setText(ui.historyCount, formatCount(total));
    const filtered = Boolean(filters.from || filters.to || filters.agent || filters.q);
    ui.historyEmpty.hidden = calls.length > 0;
    setText(ui.historyEmpty, total > 0 ? 'No calls on this page.' : filtered ? 'No stored call matches the filters.' : 'No calls stored yet.');
    setText(ui.historyRange, calls.length ? `${formatCount(offset + 1)}–${formatCount(offset + calls.length)} of ${formatCount(total)}` : '');
    ui.historyNewer.disabled = offset === 0;
    ui.historyOlder.disabled = offset + calls.length >= total;
  }

  function storedDuration(call) {
    return call.ended_unix_ms > 0 && call.started_unix_ms > 0 ? formatDuration(call.ended_unix_ms - call.started_unix_ms) : '';
  }

  const NOT_ENDED = 'no end stored: the call is live, or callbridge stopped before it ended';

  function framesCell(call) {
    const td = el('td', { className: 'num frames', text: `${formatCount(call.frames_in)} / ${formatCount(call.frames_out)}` });
    const problems = [];
    if (call.late_frames > 0) problems.push(`${formatCount(call.late_frames)} late`);
    if (call.underruns > 0) problems.push(`${formatCount(call.underruns)} underruns`);
    td.title = problems.join(', ') || 'no late frames or underruns';
    td.classList.toggle('warn', problems.length > 0);
    return td;
  }

  function historyRow(call) {
    const uuid = call.uuid;
    const ended = call.ended_unix_ms > 0;
    const tr = el('tr', { dataset: { uuid } }, [
      el('td', {}, [el('button', { className: 'link select', type: 'button', text: formatDateTime(call.started_unix_ms) || '–', title: uuid })]),
      el('td', { className: 'num', text: storedDuration(call) || '–', title: ended ? '' : NOT_ENDED }),
      el('td', {
        className: 'agent',
        text: call.agent_id || '(default)',
        title: [call.agent_id, call.conversation_id && `conversation ${call.conversation_id}`].filter(Boolean).join(' · '),
      }),
      el('td', { className: 'caller', text: [call.caller_id, call.called_number].filter(Boolean).join(' → ') || '–' }),
      el('td', { className: 'channel', text: call.channel || '–', title: call.channel || '' }),
      el('td', { className: `reason${ended ? '' : ' muted'}`, text: call.end_reason || (ended ? '–' : 'not ended'), title: call.end_detail || (ended ? '' : NOT_ENDED) }),
      el('td', { text: call.transfer_target || '' }),
      framesCell(call),
    ]);
    tr.classList.toggle('selected', uuid === state.stored.selected);
    // The row is the target; its button makes it reachable from the keyboard.
    tr.addEventListener('click', () => openStoredCall(uuid));
    return tr;
  }

  async function openStoredCall(id) {
    const stored = state.stored;
    const generation = ++stored.detailGeneration;
    const session = state.session;
    stored.selected = id;
    for (const tr of ui.historyBody.children) tr.classList.toggle('selected', tr.dataset.uuid === id);
    setText(ui.recordTitle, id);
    ui.record.hidden = true;
    ui.recordStatus.hidden = false;
    setText(ui.recordStatus, 'Loading…');
    ui.recordPanel.setAttribute('aria-busy', 'true');
    const current = () => generation === stored.detailGeneration && session === state.session;
    try {
      const detail = await api('GET', `/api/history/${encodeURIComponent(id)}`);
      if (current()) renderRecord(detail, id);
    } catch (error) {
      if (!current() || isAuthError(error)) return;
      const code = error instanceof ApiError ? error.code : '';
      const reasons = {
        unknown_call: 'This call is not in the store.',
        store_disabled: 'The server keeps no call records (DB_URL=none).',
        store_unavailable: `The call store's database is unavailable: ${error.message}`,
      };
      setText(ui.recordStatus, reasons[code] || `Could not load the call: ${error.message}`);
    } finally {
      if (current()) ui.recordPanel.setAttribute('aria-busy', 'false');
    }
  }

  function renderRecord(detail, id) {
    const call = (detail && detail.call) || {};
    setText(ui.recordTitle, call.uuid || id);
    ui.recordStatus.hidden = true;
    ui.record.hidden = false;
    renderFacts(ui.recordFacts, recordFacts(call));

    const turns = Array.isArray(detail.transcript) ? detail.transcript : [];
    setText(ui.recordTurnCount, formatCount(turns.length));
    ui.recordTranscript.replaceChildren(
      ...(turns.length ? turns.map(storedTurn) : [el('li', { className: 'event' }, [el('span', { className: 'what', text: 'No turns stored.' })])]),
    );
    ui.recordTranscript.scrollTop = 0;

    const tools = Array.isArray(detail.tool_calls) ? detail.tool_calls : [];
    ui.recordToolsSection.hidden = tools.length === 0;
    ui.recordTools.replaceChildren(...tools.map(storedToolCall));

    const dtmf = Array.isArray(detail.dtmf) ? detail.dtmf : [];
    ui.recordDtmfSection.hidden = dtmf.length === 0;
    ui.recordDtmf.replaceChildren(...dtmf.map(storedDtmf));

    renderPostCall(detail.post_call);
  }

  // [label, value, level] rows of what the call record holds, empty values left out.
  function recordFacts(call) {
    const late = Number(call.late_frames) || 0;
    const underruns = Number(call.underruns) || 0;
    const variables = call.dynamic_variables;
    const facts = [
      ['conversation', call.conversation_id],
      ['agent', call.agent_id || '(default)'],
      ['started', formatDateTime(call.started_unix_ms)],
      ['ended', formatDateTime(call.ended_unix_ms) || NOT_ENDED, call.ended_unix_ms > 0 ? '' : 'muted'],
      ['duration', storedDuration(call)],
      ['caller', [call.caller_id, call.called_number].filter(Boolean).join(' → ')],
      ['channel', call.channel],
      ['lead / campaign', [call.lead_id, call.campaign].filter(Boolean).join(' / ')],
      ['end reason', [call.end_reason, call.end_detail].filter(Boolean).join(': ')],
      ['transferred to', call.transfer_target],
      ['first word', call.first_word_ms >= 0 ? `${formatCount(call.first_word_ms)} ms` : ''],
      ['frames in / out', `${formatCount(call.frames_in)} / ${formatCount(call.frames_out)}`],
      ['late / underruns', `${formatCount(late)} / ${formatCount(underruns)}`, late > 0 || underruns > 0 ? 'warn' : ''],
      ['variables', variables && typeof variables === 'object' && Object.keys(variables).length ? JSON.stringify(variables) : ''],
    ];
    return facts.filter(([, value]) => value);
  }

  function storedTurn(turn) {
    const role = String(turn.role || '');
    const marks = [];
    if (turn.interrupted) marks.push(el('span', { className: 'mark', text: 'interrupted', title: 'the caller spoke over this turn' }));
    if (turn.corrected) marks.push(el('span', { className: 'mark', text: 'corrected', title: 'cut to what the caller heard before interrupting' }));
    return el('li', { className: 'turn', dataset: { role } }, [
      el('span', { className: 'who', text: ROLE_LABELS[role] || role || '?' }),
      el('span', { className: 'when muted', text: formatOffset(turn.offset_ms), title: `event ${turn.event_id}, time into the call` }),
      turn.text
        ? el('span', { className: 'what', text: turn.text })
        : el('span', { className: 'what muted', text: turn.interrupted ? '(the caller spoke over the agent here)' : '(no text)' }),
      ...(marks.length ? [el('span', { className: 'marks' }, marks)] : []),
    ]);
  }

  function storedToolCall(tool) {
    const parameters = tool.parameters === undefined || tool.parameters === null ? '' : JSON.stringify(tool.parameters);
    const result = tool.result ? `${tool.is_error ? 'error: ' : '→ '}${tool.result}` : '(no result stored)';
    return el('li', { dataset: { tool: String(tool.tool_call_id || '') } }, [
      el('span', { className: 'name', text: tool.name || tool.tool_call_id || '?' }),
      el('span', { className: 'muted', text: ` at ${formatOffset(tool.offset_ms)}` }),
      el('div', { className: 'params muted', text: parameters }),
      el('div', { className: `result${tool.is_error ? ' bad' : ''}`, text: result }),
    ]);
  }

  function storedDtmf(press) {
    const by = { caller: 'pressed by the caller', agent: 'sent by the agent' }[press.direction] || String(press.direction || '');
    return el('li', {}, [
      el('span', { className: 'mono', text: press.digits }),
      el('span', { className: 'muted', text: ` ${by} at ${formatOffset(press.offset_ms)}` }),
    ]);
  }

  // ElevenLabs' post-call webhook, when it arrived: summary, why the call ended, cost, analysis.
  function renderPostCall(post) {
    ui.recordPostCallSection.hidden = !post;
    if (!post) return;
    const analysis = post.analysis && typeof post.analysis === 'object' ? post.analysis : null;
    const successful = analysis && typeof analysis.call_successful === 'string' ? analysis.call_successful : '';
    renderFacts(
      ui.recordPostCall,
      [
        ['termination', post.termination_reason],
        ['cost', Number.isFinite(post.cost) ? number.format(post.cost) : ''],
        ['call successful', successful, { success: 'ok', failure: 'bad' }[successful] || ''],
        ['received', formatDateTime(post.event_unix_s * 1000)],
        ['webhook', post.kind],
      ].filter(([, value]) => value),
    );
    setText(ui.recordSummary, post.summary || '');
    ui.recordSummary.hidden = !post.summary;
    ui.recordAnalysisSection.hidden = !analysis;
    setText(ui.recordAnalysis, analysis ? JSON.stringify(analysis, null, 2) : '');
  }

  // --- the metrics stream: actors, agent service, process ----------------------------------------

  function familyMap(data) {
    const families = new Map();
    for (const family of Array.isArray(data.metrics) ? data.metrics : []) {
      if (family && typeof family.name === 'string') families.set(family.name, family);
    }
    return families;
  }

  // The family's series by the value of one label ('' for unlabelled series).
  function seriesBy(families, name, label) {
    const out = new Map();
    const family = families.get(name);
    for (const series of (family && family.series) || []) {
      out.set(label ? String((series.labels || {})[label] ?? '') : '', series);
    }
    return out;
  }

  function scalar(families, name) {
    const series = seriesBy(families, name, '').get('');
    return series ? series.value : NaN;
  }

  function onMetrics(message) {
    const data = message.data || {};
    const families = familyMap(data);
    const ts = Number(message.ts) || Date.now();
    const previous = state.previousMetrics;
    renderActors(families, ts, previous);
    renderAgentService(families, previous);
    renderProcess(data.process, ts, previous);
    state.metricsSeen = true;
    state.previousMetrics = {
      ts,
      messages: new Map([...seriesBy(families, 'callbridge_actor_messages_total', 'kind')].map(([k, s]) => [k, s.value])),
      agentFailures: scalar(families, 'callbridge_elevenlabs_session_failures_total'),
      cpuSeconds: data.process ? data.process.cpu_seconds : NaN,
    };
  }

  function renderActors(families, ts, previous) {
    const live = seriesBy(families, 'callbridge_actors_live', 'kind');
    const spawned = seriesBy(families, 'callbridge_actors_spawned_total', 'kind');
    const stopped = seriesBy(families, 'callbridge_actors_stopped_total', 'kind');
    const restarts = seriesBy(families, 'callbridge_actor_restarts_total', 'kind');
    const messages = seriesBy(families, 'callbridge_actor_messages_total', 'kind');
    const mailbox = seriesBy(families, 'callbridge_actor_mailbox_depth', 'kind');
    const handler = seriesBy(families, 'callbridge_actor_handler_seconds', 'kind');
    const kinds = [...new Set([...live.keys(), ...spawned.keys(), ...messages.keys()])].sort();
    const value = (map, kind) => (map.has(kind) ? map.get(kind).value : NaN);
    const elapsed = previous ? (ts - previous.ts) / 1000 : 0;
    ui.actorsBody.replaceChildren(
      ...kinds.map((kind) => {
        const count = value(messages, kind);
        const before = previous && previous.messages.get(kind);
        const rate = elapsed > 0 && Number.isFinite(before) ? Math.max(0, (count - before) / elapsed) : NaN;
        const m = mailbox.get(kind);
        const h = handler.get(kind);
        return el('tr', { dataset: { kind } }, [
          el('th', { text: kind, className: 'mono' }),
          el('td', { className: 'num', text: formatCount(value(live, kind)) }),
          el('td', { className: 'num', text: formatCount(value(spawned, kind)) }),
          el('td', { className: 'num', text: formatCount(value(stopped, kind)) }),
          el('td', { className: 'num', text: formatCount(value(restarts, kind)) }),
          el('td', { className: 'num', text: formatCount(count) }),
          el('td', { className: 'num', text: Number.isFinite(rate) ? formatCount(Math.round(rate)) : '–' }),
          el('td', { className: 'num', text: m ? `${formatCount(Math.round(m.p50))} / ${formatCount(Math.round(m.p99))}` : '–' }),
          el('td', { className: 'num', text: h ? `${formatSeconds(h.p50)} / ${formatSeconds(h.p99)}` : '–' }),
        ]);
      }),
    );
    setText(ui.noActors, kinds.length ? '' : 'No actor metrics in the stream.');
    ui.noActors.hidden = kinds.length > 0;
  }

  function renderAgentService(families, previous) {
    const open = scalar(families, 'callbridge_elevenlabs_sessions_open');
    const opened = scalar(families, 'callbridge_elevenlabs_sessions_opened_total');
    const failures = scalar(families, 'callbridge_elevenlabs_session_failures_total');
    if (previous && failures > previous.agentFailures) state.agentFailureAt = Date.now();
    const failingLately = Date.now() - state.agentFailureAt < AGENT_FAILURE_WINDOW_MS;
    const facts = [
      ['state', failingLately ? 'sessions failing' : 'ok', failingLately ? 'bad' : 'ok'],
      ['sessions open', formatCount(open)],
      ['opened / failed', `${formatCount(opened)} / ${formatCount(failures)}`, failures > 0 ? 'warn' : ''],
      ['calls live', formatCount(scalar(families, 'callbridge_calls_live'))],
      ['calls total', formatCount(scalar(families, 'callbridge_calls_total'))],
    ];
    if (!Number.isFinite(opened)) facts[0] = ['state', 'no figures yet', 'muted'];
    renderFacts(ui.agentFacts, facts);
  }

  function renderProcess(process, ts, previous) {
    if (!process) {
      renderFacts(ui.processFacts, [['process', 'no figures', 'muted']]);
      return;
    }
    const elapsed = previous ? (ts - previous.ts) / 1000 : 0;
    const cpu = elapsed > 0 && Number.isFinite(previous.cpuSeconds) ? ((process.cpu_seconds - previous.cpuSeconds) / elapsed) * 100 : NaN;
    const uptime = Number.isFinite(process.start_time_unix_seconds) ? Date.now() - process.start_time_unix_seconds * 1000 : NaN;
    renderFacts(ui.processFacts, [
      ['CPU', Number.isFinite(cpu) ? `${cpu.toFixed(1)} %` : '–'],
      ['resident', formatBytes(process.resident_bytes)],
      ['threads', formatCount(process.threads)],
      ['open fds', `${formatCount(process.open_fds)} of ${formatCount(process.max_fds)}`, process.open_fds > 0.8 * process.max_fds ? 'warn' : ''],
      ['up', Number.isFinite(uptime) ? formatDuration(uptime) : '–'],
    ]);
  }

  // --- the log tail ----------------------------------------------------------------------------

  function logMatches(record) {
    if (LEVELS.indexOf(record.level) < LEVELS.indexOf(ui.logLevel.value)) return false;
    if (ui.logComponent.value && record.component !== ui.logComponent.value) return false;
    const call = ui.logCall.value.trim().toLowerCase();
    if (call && !String(record.call || '').toLowerCase().includes(call)) return false;
    const text = ui.logText.value.trim().toLowerCase();
    return !text || String(record.msg || '').toLowerCase().includes(text);
  }

  function logLine(record) {
    const ts = String(record.ts || '');
    return el('li', { dataset: { level: String(record.level) } }, [
      el('span', { className: 'ts muted', text: ts.slice(11, 23), title: ts }),
      el('span', { className: 'level', text: record.level }),
      el('span', { className: 'component', text: record.component }),
      el('span', { className: 'call mono', text: record.call ? shortId(record.call) : '', title: record.call || '' }),
      el('span', { className: 'msg', text: record.msg }),
    ]);
  }

  function noteComponent(name) {
    if (typeof name !== 'string' || state.components.has(name)) return;
    state.components.add(name);
    const options = [...state.components].sort().map((c) => {
      const option = document.createElement('option');
      option.value = c;
      option.textContent = c;
      return option;
    });
    const chosen = ui.logComponent.value;
    const all = document.createElement('option');
    all.value = '';
    all.textContent = 'all';
    ui.logComponent.replaceChildren(all, ...options);
    ui.logComponent.value = chosen;
  }

  function onLog(record) {
    state.logs.push(record);
    if (state.logs.length > LOG_KEEP) state.logs.splice(0, state.logs.length - LOG_KEEP);
    noteComponent(record.component);
    if (ui.logPause.checked) {
      state.logsHeldWhilePaused += 1;
      updateLogStats();
      return;
    }
    if (!logMatches(record)) return;
    const follow = nearBottom(ui.logs);
    ui.logs.append(logLine(record));
    while (ui.logs.children.length > LOG_SHOW) ui.logs.firstElementChild.remove();
    if (follow) ui.logs.scrollTop = ui.logs.scrollHeight;
  }

  function renderLogs() {
    const shown = state.logs.filter(logMatches).slice(-LOG_SHOW);
    ui.logs.replaceChildren(...shown.map(logLine));
    ui.logs.scrollTop = ui.logs.scrollHeight;
    state.logsHeldWhilePaused = 0;
    updateLogStats();
  }

  function updateLogStats() {
    const parts = [];
    if (state.logsHeldWhilePaused > 0) parts.push(`${formatCount(state.logsHeldWhilePaused)} new while paused`);
    if (state.streamDropped > 0) parts.push(`${formatCount(state.streamDropped)} stream messages dropped by the server`);
    setText(ui.logStats, parts.join(' · '));
  }

  // --- the WebSocket stream --------------------------------------------------------------------

  function setConnection(level, text) {
    setBadge(ui.connection, level, text);
  }

  function streamUrl() {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  }

  function subscribe(ws) {
    ws.send(JSON.stringify({ type: 'subscribe', streams: ['logs', 'events', 'transcripts', 'metrics'], level: ui.logLevel.value }));
  }

  function connectStream(session) {
    if (session !== state.session) return;
    setConnection('connecting', 'connecting…');
    const ws = new WebSocket(streamUrl());
    state.ws = ws;
    state.metricsSeen = false;
    ws.addEventListener('open', () => {
      // Browsers cannot set headers on the upgrade: the token is the first message.
      ws.send(JSON.stringify({ type: 'auth', token: state.token }));
    });
    ws.addEventListener('message', (event) => {
      if (state.ws !== ws) return;
      state.lastStreamMessage = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onStreamMessage(ws, message);
    });
    ws.addEventListener('close', () => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (session !== state.session) return;
      scheduleReconnect(session);
    });
  }

  function scheduleReconnect(session) {
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** state.reconnectAttempt);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    state.reconnectAttempt += 1;
    state.reconnectAt = Date.now() + delay;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(() => connectStream(session), delay);
    showReconnectCountdown();
  }

  function showReconnectCountdown() {
    if (state.ws || !state.reconnectAt) return;
    const seconds = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
    setConnection('offline', `offline, retrying in ${seconds} s`);
  }

  function onStreamMessage(ws, message) {
    switch (message.type) {
      case 'auth':
        if (message.ok) {
          state.reconnectAttempt = 0;
          state.reconnectAt = 0;
          setConnection('ok', 'live');
          subscribe(ws);
          callsPoller.kick();
        }
        break;
      case 'log':
        onLog(message);
        break;
      case 'transcript':
      case 'event':
        onCallEvent(message);
        break;
      case 'metrics':
        onMetrics(message);
        break;
      case 'dropped':
        state.streamDropped += Number(message.count) || 0;
        updateLogStats();
        break;
      case 'error':
        if (message.status === 401 || message.status === 403) {
          signOut(message.message || 'the token was refused');
        } else {
          setText(ui.callsError, `Stream: ${message.message || message.error}`);
        }
        break;
      default:
        break;
    }
  }

  // A connection that went quiet although metrics should arrive each second is dead: reconnect.
  function watchStream() {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !state.metricsSeen) return;
    if (Date.now() - state.lastStreamMessage > STREAM_SILENCE_MS) ws.close(4000, 'silent');
  }

  // --- wiring ----------------------------------------------------------------------------------

  function tick() {
    setText(ui.clock, new Date().toLocaleTimeString('en-GB', { hour12: false }));
    tickDurations();
    showReconnectCountdown();
    watchStream();
  }

  ui.loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    ui.tokenInput.value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    start(token);
  });
  ui.signOut.addEventListener('click', () => signOut(''));
  ui.whisperForm.addEventListener('submit', onWhisper);
  ui.transferForm.addEventListener('submit', onTransfer);
  ui.logLevel.addEventListener('change', () => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) subscribe(state.ws);
    renderLogs();
  });
  for (const input of [ui.logComponent, ui.logCall, ui.logText]) input.addEventListener('input', renderLogs);
  ui.logPause.addEventListener('change', renderLogs);
  ui.logClear.addEventListener('click', () => {
    state.logs = [];
    renderLogs();
  });
  document.getElementById('log-filters').addEventListener('submit', (event) => event.preventDefault());
  ui.viewLive.addEventListener('click', () => goToView('live'));
  ui.viewHistory.addEventListener('click', () => goToView('history'));
  window.addEventListener('popstate', () => {
    if (!ui.app.hidden) showView(viewFromLocation());
  });
  ui.historyFilters.addEventListener('submit', (event) => {
    event.preventDefault();
    loadHistory(historyFilters(), 0);
  });
  ui.historyReset.addEventListener('click', () => {
    ui.historyFilters.reset();
    loadHistory(historyFilters(), 0);
  });
  ui.historyNewer.addEventListener('click', () =>
    loadHistory(state.stored.filters || historyFilters(), Math.max(0, state.stored.offset - HISTORY_PAGE_SIZE)),
  );
  ui.historyOlder.addEventListener('click', () => loadHistory(state.stored.filters || historyFilters(), state.stored.offset + HISTORY_PAGE_SIZE));
  ui.callOpenHistory.addEventListener('click', () => {
    const uuid = state.selected;
    goToView('history');
    openStoredCall(uuid);
  });

  setInterval(tick, 1000);
  tick();
  updateCallCount();
  // null: never asked in this tab. An empty string: the server runs without a token.
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved === null) {
    showLogin('');
  } else {
    start(saved);
  }
})();
