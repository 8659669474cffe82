// GPT-2's BPE as npm `gpt-3-encoder` (a port of OpenAI's encoder.py) gives
// it, the reference for llmc's (runtime/data/gpt2_bpe.h).
//   node gpt2_bpe.cjs encode-split CORPUS TRAIN_LINES: the ids of the first
//     TRAIN_LINES lines (with their newlines) then of the rest, each part
//     encoded whole, as `llmc tokenize --tokenizer` cuts a corpus;
//   node gpt2_bpe.cjs encode TEXT: its ids;
//   node gpt2_bpe.cjs decode IDS_JSON: the text, as a JSON string.
const fs = require('fs');
const {encode, decode} = require('gpt-3-encoder');
const [command, arg, extra] = process.argv.slice(2);
if (command === 'encode-split') {
  const text = fs.readFileSync(arg, 'utf-8');
  const lines = text.split('\n');
  const cut = lines.slice(0, parseInt(extra)).join('\n').length + 1;
  console.log(JSON.stringify(encode(text.slice(0, cut)).concat(encode(text.slice(cut)))));
} else if (command === 'encode') {
  console.log(JSON.stringify(encode(arg)));
} else if (command === 'decode') {
  console.log(JSON.stringify(decode(JSON.parse(arg))));
} else {
  console.error('usage: gpt2_bpe.cjs encode-split|encode|decode ...');
  process.exit(2);
}
