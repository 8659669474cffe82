// bench/serve's client, after vLLM's benchmark_serving.py: sends N streaming
// completion requests of mixed prompt and output lengths to a server, at a
// Poisson rate (or all at once), and measures per request the time to the
// first token (TTFT), the time per output token after it (TPOT) and the
// gaps between streamed chunks (ITL). Prints one JSON line of figures.
//
// usage: node client.mjs URL N RATE SEED   (RATE requests/s; 0: all at once)
// Prompts are token ids in [0, 8000) of 16..128 tokens, outputs 16..128
// tokens (greedy, no stop), both drawn with SEED so every server sees the
// same requests.

const [url, n, rate, seed] = [process.argv[2], Number(process.argv[3]),
                              Number(process.argv[4]), Number(process.argv[5])];

// A small seeded generator (mulberry32), so runs repeat.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const requests = [];
let at = 0;
for (let i = 0; i < n; i++) {
  const prompt = Array.from({length: between(16, 128)}, () => between(0, 7999));
  requests.push({prompt, max_tokens: between(16, 128), at});
  if (rate > 0) at += -Math.log(1 - random()) / rate * 1000;  // ms
}

async function run(request, start) {
  const wait = start + request.at - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const sent = performance.now();
  const res = await fetch(url + '/v1/completions', {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({
      prompt: request.prompt, max_tokens: request.max_tokens, temperature: 0,
      stream: true, stream_options: {include_usage: true},
    }),
  });
  if (!res.ok) throw new Error('HTTP ' + res.status + ': ' + await res.text());
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '', first = null, last = null, tokens = 0;
  const gaps = [];
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer.slice(0, end).replace(/^data: /, '');
      buffer = buffer.slice(end + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      const text = chunk.choices.length ? chunk.choices[0].text : '';
      if (!text) continue;
      const now = performance.now();
      if (first === null) first = now;
      else gaps.push(now - last);
      last = now;
    }
  }
  const end = performance.now();
  return {
    ttft: first - sent, tokens, gaps, latency: end - sent,
    tpot: tokens > 1 ? (end - first) / (tokens - 1) : null,
  };
}

function percentile(values, p) {
  const v = values.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(p / 100 * v.length))] : 0;
}

const start = performance.now();
const results = await Promise.all(requests.map((r) => run(r, start)));
const seconds = (performance.now() - start) / 1000;
const out = results.reduce((s, r) => s + r.tokens, 0);
const gaps = results.flatMap((r) => r.gaps);
console.log(JSON.stringify({
  requests: n, rate, seconds,
  request_throughput: n / seconds,
  output_tokens_per_s: out / seconds,
  output_tokens: out,
  ttft_ms: {p50: percentile(results.map((r) => r.ttft), 50),
            p99: percentile(results.map((r) => r.ttft), 99)},
  tpot_ms: {p50: percentile(results.map((r) => r.tpot), 50),
            p99: percentile(results.map((r) => r.tpot), 99)},
  itl_ms: {p50: percentile(gaps, 50), p99: percentile(gaps, 99)},
}));
