// The web page of `llmc serve`: pick a scenario, type, press Generate and
// watch the answer stream in over the server's own OpenAI-style API.
'use strict';

// Each scenario is a prompt template with its sampling defaults; the
// chatbot goes through /v1/chat/completions and keeps the conversation.
const SCENARIOS = {
  faq: {
    label: 'FAQ',
    hint: 'Ask a question; the model answers it.',
    template: 'Q: {input}\nA:',
    example: 'What is a language model?',
    params: {max_tokens: 64, temperature: 0.3, top_p: 0.9},
    stop: ['\nQ:'],
  },
  chat: {
    label: 'Chatbot',
    hint: 'Talk with the model; it sees the whole conversation.',
    chat: true,
    example: 'Hello! Who are you?',
    params: {max_tokens: 96, temperature: 0.7, top_p: 0.95},
  },
  translation: {
    label: 'Translation',
    hint: 'English in, French out.',
    template: 'Translate English to French.\nEnglish: {input}\nFrench:',
    example: 'The weather is nice today.',
    params: {max_tokens: 64, temperature: 0, top_p: 1},
    stop: ['\n'],
  },
  essay: {
    label: 'Essay',
    hint: 'Give an opening; the model writes on.',
    template: '{input}',
    example: 'In the beginning',
    params: {max_tokens: 200, temperature: 0.8, top_p: 0.95},
  },
};

const $ = (id) => document.getElementById(id);
const state = {
  scenario: 'faq',
  messages: [],
  model: '',
  abort: null
};

function apiHeaders() {
  const headers = {'Content-Type': 'application/json'};
  const key = localStorage.getItem('llmc-api-key') || '';
  if (key) headers.Authorization = 'Bearer ' + key;
  return headers;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

async function loadModel() {
  try {
    const res = await fetch('/v1/models', {headers: apiHeaders()});
    if (res.status === 401) {
      $('key-box').hidden = false;
      $('model').textContent = 'this server wants an API key';
      return;
    }
    const body = await res.json();
    state.model = body.data[0].id;
    $('model').textContent = 'model: ' + state.model;
  } catch (e) {
    $('model').textContent = 'cannot reach the server';
  }
}

function selectScenario(name) {
  state.scenario = name;
  const s = SCENARIOS[name];
  for (const b of $('scenarios').children)
    b.setAttribute('aria-pressed', String(b.dataset.scenario === name));
  $('hint').textContent = s.hint;
  $('input').placeholder = s.example;
  $('max-tokens').value = s.params.max_tokens;
  $('temperature').value = s.params.temperature;
  $('top-p').value = s.params.top_p;
  $('chat').hidden = !s.chat;
  $('clear').hidden = !s.chat;
  $('result').hidden = !!s.chat;
  $('prompt-echo').textContent = '';
  $('output').textContent = '';
  $('stats').textContent = '';
  $('stats').dataset.state = 'idle';
  showError('');
}

function addTurn(role, text) {
  const turn = document.createElement('div');
  turn.className = 'turn ' + role;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role === 'user' ? 'you' : state.model || 'model';
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  turn.append(who, body);
  $('chat').append(turn);
  return body;
}

// The request body for the current scenario and settings.
function requestFor(input) {
  const s = SCENARIOS[state.scenario];
  const body = {
    model: state.model,
    stream: true,
    stream_options: {include_usage: true},
    max_tokens: Number($('max-tokens').value),
    temperature: Number($('temperature').value),
    top_p: Number($('top-p').value),
  };
  if ($('seed').value !== '') body.seed = Number($('seed').value);
  if (s.stop) body.stop = s.stop;
  if (s.chat) {
    body.messages = state.messages.concat([{role: 'user', content: input}]);
    return ['/v1/chat/completions', body];
  }
  body.prompt = s.template.replace('{input}', input);
  return ['/v1/completions', body];
}

// Reads server-sent events: calls onChunk with each JSON chunk until
// `data: [DONE]`.
async function readEvents(res, onChunk) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onChunk(JSON.parse(data));
      }
    }
  }
}

async function generate() {
  const s = SCENARIOS[state.scenario];
  const input = $('input').value || $('input').placeholder;
  const [path, body] = requestFor(input);
  showError('');
  let target;
  if (s.chat) {
    addTurn('user', input);
    target = addTurn('assistant', '');
    $('input').value = '';
  } else {
    $('prompt-echo').textContent = body.prompt;
    $('output').textContent = '';
    target = $('output');
  }
  $('generate').disabled = true;
  $('stop').disabled = false;
  $('stats').dataset.state = 'running';
  state.abort = new AbortController();
  const start = performance.now();
  let first = null, tokens = null, text = '', finish = '';
  const showStats = () => {
    const now = performance.now();
    const parts = [];
    if (tokens !== null) parts.push(tokens + ' tokens');
    if (tokens !== null && first !== null && now > first)
      parts.push((tokens / ((now - start) / 1000)).toFixed(1) + ' tokens/s');
    if (first !== null)
      parts.push('first token after ' + Math.round(first - start) + ' ms');
    if (finish) parts.push('finished: ' + finish);
    $('stats').textContent = parts.join(' · ');
  };
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: apiHeaders(),
      body: JSON.stringify(body),
      signal: state.abort.signal,
    });
    if (!res.ok) {
      if (res.status === 401) $('key-box').hidden = false;
      const err = await res.json().catch(() => ({}));
      throw new Error((err.error && err.error.message) || res.statusText);
    }
    await readEvents(res, (chunk) => {
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) return;
      const delta = s.chat ? (choice.delta && choice.delta.content) || '' :
                             choice.text || '';
      if (delta && first === null) first = performance.now();
      text += delta;
      target.textContent = text;
      if (choice.finish_reason) finish = choice.finish_reason;
      showStats();
    });
    if (s.chat)
      state.messages.push(
          {role: 'user', content: input}, {role: 'assistant', content: text});
    showStats();
    $('stats').dataset.state = 'done';
  } catch (e) {
    $('stats').dataset.state = e.name === 'AbortError' ? 'stopped' : 'failed';
    if (e.name !== 'AbortError')
      showError(e.message);
    else
      $('stats').textContent = 'stopped';
  } finally {
    $('generate').disabled = false;
    $('stop').disabled = true;
    state.abort = null;
  }
}

function init() {
  for (const [name, s] of Object.entries(SCENARIOS)) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.scenario = name;
    b.textContent = s.label;
    b.addEventListener('click', () => selectScenario(name));
    $('scenarios').append(b);
  }
  $('generate').addEventListener('click', generate);
  $('stop').addEventListener('click', () => state.abort && state.abort.abort());
  $('clear').addEventListener('click', () => {
    state.messages = [];
    $('chat').textContent = '';
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate();
  });
  $('api-key').value = localStorage.getItem('llmc-api-key') || '';
  $('api-key').addEventListener('change', () => {
    localStorage.setItem('llmc-api-key', $('api-key').value);
    loadModel();
  });
  selectScenario('faq');
  loadModel();
}

init();
