// Clinician live view. Renders only what the relay sends, which is only the
// patients this viewer token may see. Patient data goes into the page through
// textContent, never as HTML.

/** Values older than this are shown as not current (IEC 60601-1-8 "value not current"). */
const NOT_CURRENT_MS = 30_000;
const cards = new Map();
const token = new URLSearchParams(location.search).get('token') ?? '';
const connection = document.getElementById('connection');
const list = document.getElementById('patients');
const template = document.getElementById('patient-card');

function cardFor(patient) {
  let card = cards.get(patient.patientId);
  if (!card) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.patientId = patient.patientId;
    node.querySelector('.name').textContent = patient.displayName;
    node.querySelector('.bed').textContent = `Bed ${patient.bed}`;
    list.append(node);
    card = { node, lastValueAt: 0, active: new Map() };
    cards.set(patient.patientId, card);
  }
  document.getElementById('empty').hidden = true;
  return card;
}

function showReading(card, reading) {
  const hr = card.node.querySelector('[data-testid="hr"]');
  const spo2 = card.node.querySelector('[data-testid="spo2"]');
  hr.textContent = reading.hr === null ? '--' : String(Math.round(reading.hr));
  spo2.textContent = reading.spo2 === null ? '--' : String(Math.round(reading.spo2));
  const reasons = reading.reasons.length ? ` (${reading.reasons.join(', ')})` : '';
  card.node.querySelector('.quality').textContent = `signal ${Math.round(reading.sqi * 100)}%${reasons}`;
  if (reading.hr !== null || reading.spo2 !== null) card.lastValueAt = Date.now();
}

function showOnline(card, online) {
  const badge = card.node.querySelector('.online');
  badge.dataset.online = String(online);
  badge.textContent = online ? 'online' : 'offline';
}

const rank = { none: 0, low: 1, medium: 2, high: 3 };
function showAlarm(card, event) {
  if (event.event === 'cleared') card.active.delete(event.alarmId);
  else card.active.set(event.alarmId, event);
  const ul = card.node.querySelector('.alarms');
  ul.replaceChildren();
  let top = 'none';
  for (const active of card.active.values()) {
    const li = document.createElement('li');
    li.dataset.priority = active.priority;
    li.textContent = `${active.priority.toUpperCase()} ${active.message}${active.event === 'acknowledged' ? ' (acknowledged)' : ''}`;
    ul.append(li);
    if (rank[active.priority] > rank[top]) top = active.priority;
  }
  card.node.dataset.alarm = top;
}

function handle(message) {
  switch (message.type) {
    case 'snapshot': {
      // A snapshot is the whole set this viewer may see now: a patient moved away or a
      // revoked gateway disappears from the screen.
      const allowed = new Set(message.patients.map((entry) => entry.patient.patientId));
      for (const [patientId, card] of cards) {
        if (allowed.has(patientId)) continue;
        card.node.remove();
        cards.delete(patientId);
      }
      document.getElementById('empty').hidden = message.patients.length > 0;
      for (const entry of message.patients) {
        const card = cardFor(entry.patient);
        showOnline(card, entry.online);
        if (entry.latest) showReading(card, entry.latest);
      }
      break;
    }
    case 'vitals':
      showReading(cardFor(message.patient), message.reading);
      break;
    case 'alarm':
      showAlarm(cardFor(message.patient), message.event);
      break;
    case 'gateway':
      showOnline(cardFor(message.patient), message.state === 'online');
      break;
  }
}

function refreshAges() {
  const now = Date.now();
  for (const card of cards.values()) {
    const age = card.lastValueAt ? now - card.lastValueAt : Number.POSITIVE_INFINITY;
    card.node.dataset.stale = String(age > NOT_CURRENT_MS);
    card.node.querySelector('.age').textContent = card.lastValueAt
      ? age > NOT_CURRENT_MS
        ? 'value not current'
        : `${Math.round(age / 1000)} s ago`
      : '';
  }
}

let retryMs = 500;
function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/live?token=${encodeURIComponent(token)}`);
  socket.addEventListener('open', () => {
    retryMs = 500;
    connection.dataset.state = 'open';
    connection.textContent = 'live';
  });
  socket.addEventListener('message', (event) => {
    try {
      handle(JSON.parse(event.data));
    } catch (error) {
      console.error('unreadable live message', error);
    }
  });
  socket.addEventListener('close', (event) => {
    connection.dataset.state = event.code === 1008 ? 'refused' : 'closed';
    connection.textContent = event.code === 1008 ? 'access refused' : 'reconnecting…';
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  });
}

setInterval(refreshAges, 1000);
connect();
