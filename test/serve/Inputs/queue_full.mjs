// Fills a `llmc serve --max-queue 1` of a 4-sequence plan with 8 requests at
// once: 4 run, 1 waits, the rest get 429 with Retry-After and OpenAI's JSON
// error; all the others complete.
// usage: node queue_full.mjs BASE_URL
const [baseURL] = process.argv.slice(2);
const body = JSON.stringify({ prompt: "w1 w2", max_tokens: 40, temperature: 0 });
const replies = await Promise.all(Array.from({ length: 8 }, async () => {
  const r = await fetch(baseURL + "/v1/completions", { method: "POST", body });
  return { status: r.status, retry: r.headers.get("retry-after"), body: await r.json() };
}));
const full = replies.filter((r) => r.status === 429);
const done = replies.filter((r) => r.status === 200);
const ok = full.length >= 1 && done.length + full.length === 8 &&
    full.every((r) => r.retry === "1" && r.body.error.type === "rate_limit_error") &&
    done.every((r) => r.body.choices[0].finish_reason === "length");
console.log(`${ok ? "ok" : "FAILED"}: ${full.length} of 8 requests got 429, ${done.length} completed`);
process.exit(ok ? 0 : 1);
