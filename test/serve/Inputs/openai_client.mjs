// Drives a running `llmc serve` with the official OpenAI client for Node.
// usage: node openai_client.mjs BASE_URL API_KEY EXPECTED.json
// EXPECTED.json: {"prompt": TEXT, "text": the greedy answer of llmc generate
// for it, "max_tokens": N}. Prints one line per check; exits 1 on a failure.
import fs from "node:fs";
import OpenAI from "openai";

const [baseURL, apiKey, expectedPath] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedPath, "utf8"));
const client = new OpenAI({ baseURL: baseURL + "/v1", apiKey });
const greedy = { model: "llmc", max_tokens: expected.max_tokens, temperature: 0 };
let failed = false;
function check(what, ok, detail = "") {
  console.log(`${ok ? "ok" : "FAILED"}: ${what}${detail ? " " + detail : ""}`);
  failed ||= !ok;
}

async function streamText(stream, chat) {
  let text = "";
  for await (const chunk of stream)
    text += chat ? chunk.choices[0].delta.content ?? "" : chunk.choices[0].text;
  return text;
}

// Completions, text prompt: the same text as llmc generate.
const c = await client.completions.create({ ...greedy, prompt: expected.prompt });
check("completion text equals llmc generate's", c.choices[0].text === expected.text,
      JSON.stringify(c.choices[0].text));
check("usage counts the tokens", c.usage.completion_tokens === expected.max_tokens);
// The same prompt as token ids.
const ids = await client.completions.create({ ...greedy, prompt: expected.prompt_ids });
check("a prompt of token ids gives the same text", ids.choices[0].text === expected.text);
// Streaming: the deltas add up to the same text, ending with [DONE].
const streamed = await streamText(await client.completions.create(
    { ...greedy, prompt: expected.prompt, stream: true }), false);
check("streamed completion equals the whole one", streamed === expected.text);
// Chat, whole and streamed.
const messages = [{ role: "user", content: expected.prompt }];
const chat = await client.chat.completions.create({ ...greedy, messages });
const chatStreamed = await streamText(await client.chat.completions.create(
    { ...greedy, messages, stream: true }), true);
check("streamed chat equals the whole one",
      chat.choices[0].message.content === chatStreamed && chatStreamed.length > 0);
check("chat answers as the assistant", chat.choices[0].message.role === "assistant");
// Models.
const models = await client.models.list();
check("the model is listed", models.data.some((m) => m.id === "llmc"));

// 32 concurrent streams of 8 prompts: each the same as its prompt's answer
// asked alone, one request at a time.
const prompts = Array.from({ length: 8 }, (_, i) => expected.prompt + " w" + (10 + i));
const alone = [];
for (const prompt of prompts)
  alone.push((await client.completions.create({ ...greedy, prompt })).choices[0].text);
const many = await Promise.all(Array.from({ length: 32 }, async (_, i) =>
    streamText(await client.completions.create(
        { ...greedy, prompt: prompts[i % 8], stream: true }), false)));
check("32 concurrent streams each equal their prompt's sequential answer",
      many.every((t, i) => t === alone[i % 8]) &&
      alone.every((t) => t.length > 0));

// A client that goes away mid-stream frees its blocks.
const controller = new AbortController();
const long = await client.completions.create(
    { ...greedy, prompt: expected.prompt, max_tokens: 60, stream: true },
    { signal: controller.signal });
let seen = 0;
try {
  for await (const _ of long) if (++seen === 2) controller.abort();
} catch (e) { /* the abort */ }
let used = -1;
for (let i = 0; i < 50 && used !== 0; ++i) {
  await new Promise((r) => setTimeout(r, 100));
  const metrics = await (await fetch(baseURL + "/metrics",
      { headers: { Authorization: "Bearer " + apiKey } })).text();
  used = Number(/^llmc_kv_blocks_used (\d+)$/m.exec(metrics)[1]);
}
check("a disconnected stream's blocks are freed", used === 0);

// Errors: status codes and JSON bodies, and the server still serving.
async function post(path, body, headers = {}) {
  const r = await fetch(baseURL + path, { method: "POST", body,
      headers: { Authorization: "Bearer " + apiKey, ...headers } });
  return [r.status, await r.text(), r];
}
let [status, body] = await post("/v1/completions", "{not json");
check("malformed JSON is 400", status === 400 && JSON.parse(body).error.message.length > 0);
[status, body] = await post("/v1/completions", JSON.stringify({ prompt: "a", temperature: -1 }));
check("an invalid parameter is 400 naming it",
      status === 400 && JSON.parse(body).error.param === "temperature", body);
[status, body] = await post("/v1/completions", JSON.stringify({ prompt: "a".repeat(100000) }));
check("an oversized body is 413", status === 413, String(status));
const noKey = await fetch(baseURL + "/v1/models");
check("a missing API key is 401", noKey.status === 401);
const health = await fetch(baseURL + "/health");
check("/health needs no key", health.status === 200);
const again = await client.completions.create({ ...greedy, prompt: expected.prompt });
check("still serving after the errors", again.choices[0].text === expected.text);
process.exit(failed ? 1 : 0);
