// Continuous batching through the HTTP server: requests that arrive while
// the engine is busy join the running batch at the next step.
// 1. A long streamed request A starts; once its first token is in, a short
//    request B is sent: B must finish while A is still generating (a loop
//    that held the engine's lock from step to step kept B out until A was
//    done).
// 2. 19 more streams are opened at once; while they open and once each
//    has its headers (the engine took it), /metrics must show more than 8
//    requests running or waiting: httplib's default pool of 8 connection
//    threads had left the rest unread, whatever --max-queue said.
// usage: node join_running.mjs BASE_URL
const [baseURL] = process.argv.slice(2);
const post = (body) => fetch(baseURL + "/v1/completions", {
  method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({prompt: "w1 w2", temperature: 0, ...body}),
});
const gauge = (text, name) =>
    Number((text.match(new RegExp(`^llmc_${name} (\\d+)`, "m")) || [])[1]);

let aDone = false;
const a = await post({max_tokens: 1000, stream: true});
const reader = a.body.getReader();
await reader.read(); // A's first chunk: it runs
const aDrained = (async () => {
  while (!(await reader.read()).done) {}
  aDone = true;
})();
const b = await (await post({max_tokens: 4})).json();
const bWhileA = !aDone && b.choices[0].finish_reason === "length";
await aDrained;

// The most requests /metrics shows running or waiting, read every 20 ms
// from when the streams start opening until it passes 8 or 5 s after all
// are open: on a loaded machine a stream's headers may come before the
// engine counts it, or the first streams finish before the last opens, so
// one reading could undercount; an 8-thread pool never shows more than 8.
let held = 0, opened = 0;
const polling = (async () => {
  while (held <= 8 && (!opened || Date.now() - opened < 5000)) {
    const metrics = await (await fetch(baseURL + "/metrics")).text();
    held = Math.max(held, gauge(metrics, "requests_running") +
                              gauge(metrics, "requests_waiting"));
    await new Promise((r) => setTimeout(r, 20));
  }
})();
const streams = await Promise.all(
    Array.from({length: 19}, () => post({max_tokens: 200, stream: true})));
opened = Date.now();
await polling;
await Promise.all(streams.map((r) => r.body.cancel()));

const ok = bWhileA && held > 8;
console.log(`${ok ? "ok" : "FAILED"}: B finished while A ran: ${bWhileA}; ` +
            `19 streams open, the engine holds ${held}`);
process.exit(ok ? 0 : 1);
