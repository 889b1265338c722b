// ONNX Runtime side of `rt3 bench ort` (cli/bench_ort.cpp; docs/bench.md). One JSON request per
// line on stdin, one JSON reply per line on stdout:
//   {"op":"load","name":N,"model":PATH,"threads":T,"optimization":"all"|"disabled"} -> {"ok":true}
//   {"op":"logits","name":N,"ids":[...]}                                        -> {"logits":[...]}
//   {"op":"time","name":N,"ids":[...],"calls":K}                                -> {"ms":[...]}
// Errors reply {"error":"..."}. Calls run one after the other (batch 1), as the engine does.
'use strict';
const ort = require('onnxruntime-node');
const readline = require('readline');

const sessions = new Map();

function idsTensor(ids) {
  return new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
}

async function handle(req) {
  if (req.op === 'load') {
    const s = await ort.InferenceSession.create(req.model, {
      intraOpNumThreads: req.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: req.optimization || 'all',
    });
    sessions.set(req.name, s);
    return {ok: true};
  }
  const s = sessions.get(req.name);
  if (!s) throw new Error('no session ' + req.name);
  const feeds = {input_ids: idsTensor(req.ids)};
  if (req.op === 'logits') {
    const out = await s.run(feeds);
    return {logits: Array.from(out.logits.data)};
  }
  if (req.op === 'time') {
    const ms = [];
    for (let i = 0; i < req.calls; ++i) {
      const t0 = process.hrtime.bigint();
      await s.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return {ms};
  }
  throw new Error('unknown op ' + req.op);
}

const rl = readline.createInterface({input: process.stdin});
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (e) {
      reply = {error: String(e && e.message ? e.message : e)};
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
});
rl.on('close', () => queue.then(() => process.exit(0)));
