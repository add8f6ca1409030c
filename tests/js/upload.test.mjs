import assert from "node:assert/strict";
import { test } from "node:test";

import { benchHref, megabytes, parseVocab, summaryParts, tooBig, uploadProblems, uploadUrl } from "../../static/js/lab/upload.js";
import { strings } from "./helpers.mjs";

const ko = strings("ko"), en = strings("en");
const LIMIT = 20 * 2 ** 20;

test("the upload URL: the architecture, the activation only for an RNN, the vocabulary as JSON, the page's language", () => {
  assert.equal(uploadUrl("/api/models", { arch: "gru", activation: "relu", vocab: null, lang: "ko" }), "/api/models?arch=gru&lang=ko");
  assert.equal(uploadUrl("/api/models", { arch: "rnn", activation: "relu", vocab: null, lang: "en" }),
               "/api/models?arch=rnn&activation=relu&lang=en");
  const url = new URL(uploadUrl("/api/models", { arch: "lstm", activation: "tanh", vocab: ["a", " ", "&", "한"], lang: "ko" }), "http://x");
  assert.equal(url.pathname, "/api/models");
  assert.deepEqual(JSON.parse(url.searchParams.get("vocab")), ["a", " ", "&", "한"]);
  assert.equal(url.searchParams.get("activation"), null);
  assert.equal(url.searchParams.get("lang"), "ko");
});

test("the vocabulary field: empty is the file's own, a JSON list as typed, else the characters in order", () => {
  assert.equal(parseVocab(""), null);
  assert.equal(parseVocab(undefined), null);
  assert.deepEqual(parseVocab('["a", "b", " "]'), ["a", "b", " "]);
  assert.deepEqual(parseVocab(" [\"x\",\"y\"] "), ["x", "y"]);
  assert.deepEqual(parseVocab("ab c"), ["a", "b", " ", "c"]);  // a space is a character, kept
  assert.deepEqual(parseVocab("[ab"), ["[", "a", "b"]);  // not JSON: characters
  assert.deepEqual(parseVocab("가나😀"), ["가", "나", "😀"]);  // by code point, as Python counts
  assert.deepEqual(parseVocab("[1, 2]"), [1, 2]);  // a list of something else: the server names what is wrong
});

test("the size limit comes from the page config and is said in MB", () => {
  assert.equal(tooBig(LIMIT, LIMIT), false);
  assert.equal(tooBig(LIMIT + 1, LIMIT), true);
  assert.equal(tooBig(10, undefined), false);  // no limit known: the server decides
  assert.equal(megabytes(LIMIT), "20 MB");
  assert.equal(megabytes(1.5 * 2 ** 20), "1.5 MB");
});

test("an error answer becomes lines in the page's language: the server's sentence, else the page's", () => {
  const format = { detail: [{ type: "knob_upload_format", loc: ["body", "file"], ctx: {},
                              msg: `${ko.knob_file}: ${ko.err_knob_upload_format}` }] };
  const [line] = uploadProblems(422, format, ko, LIMIT);
  assert.ok(line.startsWith("모델 파일: ") && line.includes("safetensors") && line.includes("피클"), line);
  const vocab = { detail: [{ type: "knob_upload_vocab_format", loc: ["query", "vocab"], ctx: {}, msg: en.err_knob_upload_vocab_format }] };
  assert.deepEqual(uploadProblems(422, vocab, en, LIMIT), [`Vocabulary: ${en.err_knob_upload_vocab_format}`]);
  assert.deepEqual(uploadProblems(507, { detail: ko.err_upload_full }, ko, LIMIT), [ko.err_upload_full]);
  // a 413 with the server's sentence shows it; a bare one (a proxy's, or refused here before sending) the page's
  assert.deepEqual(uploadProblems(413, { detail: "요청 본문이 너무 큽니다 (20 MB)" }, ko, LIMIT), ["요청 본문이 너무 큽니다 (20 MB)"]);
  assert.deepEqual(uploadProblems(413, null, ko, LIMIT), ["파일이 너무 큽니다. 20 MB까지 올릴 수 있습니다."]);
  assert.deepEqual(uploadProblems(413, null, en, LIMIT), ["The file is too large: the limit is 20 MB."]);
  assert.deepEqual(uploadProblems(0, null, ko, LIMIT), [ko.error_network]);
  assert.deepEqual(uploadProblems(500, null, en, LIMIT), ["The server answered with status 500."]);
});

test("the summary of an upload: architecture, layers, units, vocabulary size, in both languages", () => {
  const data = { checkpoint: "upload:ab12", arch: "gru", layers: 2, hidden_size: 12, vocab: [..."abcdefgh "], bytes: 4000,
                 bench_url: "/bench?arch=gru&checkpoint=upload%3Aab12&text=abcdefgh+" };
  assert.deepEqual(summaryParts(data, ko), [["구조", "GRU"], ["층 수", "2층"], ["은닉 유닛", "층마다 12개"], ["어휘 크기", "글자 9개"]]);
  assert.deepEqual(summaryParts(data, en), [["Architecture", "GRU"], ["Layers", "2"], ["Hidden units", "12 per layer"],
                                            ["Vocabulary", "9 characters"]]);
  const href = new URL(benchHref(data.bench_url, "ko"), "http://x");
  assert.equal(href.pathname, "/bench");
  assert.equal(href.searchParams.get("checkpoint"), "upload:ab12");
  assert.equal(href.searchParams.get("text"), "abcdefgh ");
  assert.equal(href.searchParams.get("lang"), "ko");
  assert.equal(benchHref("/bench?arch=gru&lang=en", "ko"), "/bench?arch=gru&lang=ko");
});

test("every upload string exists in both languages", () => {
  const keys = Object.keys(en).filter((k) => k.startsWith("lab_upload_"));
  assert.ok(keys.length > 20);
  assert.deepEqual(Object.keys(ko).filter((k) => k.startsWith("lab_upload_")).sort(), keys.sort());
  for (const k of keys) assert.ok(ko[k] && en[k], k);
});
