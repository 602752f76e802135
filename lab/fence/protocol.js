"use strict";
/**
 * The lab power switch's protocol, with no I/O of its own: a request's text goes in, the answer
 * and one log line come out, and everything that touches a node goes through the injected
 * `machine` (see qemu.js for the real one, the unit tests for a fake).
 *
 * One request per connection:
 *
 *   SECRET <token>\n
 *   <status|on|off|reset> <node>\n
 *
 * answered by one line: `OK on`, `OK off`, `OK reset`, `OK starting`, or `ERR <reason>`.
 */
const crypto = require("node:crypto");

const ACTIONS = ["status", "on", "off", "reset"];
/** Bytes a request may have; a longer one is refused without being read further. */
const MAX_REQUEST_BYTES = 512;
/** How long `off` waits for QEMU to exit after `quit`, and again after SIGKILL. */
const EXIT_WAIT_MS = 10000;
const SAFE_WORD = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Splits a request into its parts, or says why it is malformed. Never copies the token anywhere
 * but the returned `secret`.
 * @returns {{ ok: true, secret: string, action: string, node: string } | { ok: false, reason: string }}
 */
function parseRequest(text) {
  if (typeof text !== "string" || Buffer.byteLength(text) > MAX_REQUEST_BYTES) return { ok: false, reason: "request too long" };
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.length < 3 || lines.slice(2).some((l) => l !== "")) return { ok: false, reason: "expected two lines: SECRET <token> and <action> <node>" };
  const auth = /^SECRET (\S+)$/.exec(lines[0]);
  if (!auth) return { ok: false, reason: "the first line must be SECRET <token>" };
  const request = /^(\S+) (\S+)$/.exec(lines[1]);
  if (!request) return { ok: false, reason: "the second line must be <action> <node>" };
  return { ok: true, secret: auth[1], action: request[1].toLowerCase(), node: request[2] };
}

/** Compares two secrets in time that does not depend on where they differ, nor on their lengths. */
function secretsEqual(given, expected) {
  const digest = (s) => crypto.createHash("sha256").update(String(s), "utf8").digest();
  return crypto.timingSafeEqual(digest(given), digest(expected)) && expected.length > 0;
}

/** A word fit for the log: names that are not plain are shown as `?` (they could hold anything). */
function logWord(word) {
  return typeof word === "string" && SAFE_WORD.test(word) ? word : "?";
}

/**
 * One log line: time, peer, node, action, outcome. The secret never gets here; as a last guard,
 * any occurrence of it is masked anyway (a client could send it as a node name).
 */
function formatLogLine({ time, peer, node, action, outcome }, secret) {
  const line = `${time} peer=${peer || "?"} node=${logWord(node)} action=${logWord(action)} outcome=${JSON.stringify(outcome)}`;
  return secret ? line.split(secret).join("***") : line;
}

/**
 * Answers one request.
 * @param {string} text the request as received
 * @param {{ secret: string, nodes: Record<string, unknown> }} config the switch's secret and the nodes it knows
 * @param {import("./protocol").Machine} machine what acts on the nodes
 * @param {{ peer?: string, now?: () => Date }} [context]
 * @returns {Promise<{ response: string, logLine: string }>}
 */
async function handleRequest(text, config, machine, context = {}) {
  const now = context.now || (() => new Date());
  const parsed = parseRequest(text);
  const entry = { time: now().toISOString(), peer: context.peer, node: undefined, action: undefined, outcome: "" };
  const finish = (response, outcome = response) => {
    entry.outcome = outcome;
    return { response: `${response}\n`, logLine: formatLogLine(entry, config.secret) };
  };
  if (!parsed.ok) return finish("ERR malformed request", `ERR malformed request: ${parsed.reason}`);
  entry.node = parsed.node;
  entry.action = parsed.action;
  // Nothing about nodes or actions is told to a client that does not hold the secret.
  if (!secretsEqual(parsed.secret, config.secret)) return finish("ERR unauthorized", "ERR unauthorized: wrong secret");
  if (!ACTIONS.includes(parsed.action)) return finish(`ERR unknown action (expected ${ACTIONS.join(", ")})`);
  if (!Object.prototype.hasOwnProperty.call(config.nodes, parsed.node)) {
    return finish(`ERR unknown node (expected ${Object.keys(config.nodes).join(", ")})`);
  }
  try {
    const { response, outcome } = await act(parsed.action, parsed.node, machine);
    return finish(response, outcome);
  } catch (err) {
    const reason = oneLine(err instanceof Error ? err.message : String(err));
    return finish(`ERR ${parsed.action} failed: ${reason}`);
  }
}

/** What each action does; each first asks whether the node's QEMU runs at all. */
async function act(action, node, machine) {
  const alive = await machine.isAlive(node);
  switch (action) {
    case "status": {
      if (!alive) return { response: "OK off", outcome: "OK off (no QEMU process)" };
      const status = vmStatus(await machine.hmp(node, "info status"));
      return status === "running"
        ? { response: "OK on", outcome: "OK on" }
        : { response: "OK off", outcome: `OK off (QEMU runs, VM status: ${status})` };
    }
    case "reset": {
      // A node without a QEMU cannot be running the old instance: fenced already.
      if (!alive) return { response: "OK off", outcome: "OK off (no QEMU process, nothing to reset)" };
      expectSilence("system_reset", await machine.hmp(node, "system_reset"));
      return { response: "OK reset", outcome: "OK reset (system_reset)" };
    }
    case "off": {
      if (!alive) return { response: "OK off", outcome: "OK off (was off)" };
      // `quit` ends QEMU at once, without asking the guest: a power cut. QEMU closes the monitor
      // as it exits, so a failed read here is expected; the process is what counts.
      await machine.hmp(node, "quit").catch(() => "");
      if (await machine.waitExit(node, EXIT_WAIT_MS)) return { response: "OK off", outcome: "OK off (quit)" };
      await machine.kill(node);
      if (await machine.waitExit(node, EXIT_WAIT_MS)) return { response: "OK off", outcome: "OK off (quit did not end QEMU; SIGKILL did)" };
      throw new Error("QEMU still runs after quit and SIGKILL");
    }
    case "on": {
      if (alive) return { response: "OK on", outcome: "OK on (was on)" };
      const started = await machine.start(node);
      return { response: "OK starting", outcome: started === "already-starting" ? "OK starting (a start was already under way)" : "OK starting" };
    }
    default:
      throw new Error(`unhandled action ${action}`);
  }
}

/** `info status` prints `VM status: running` (or `paused`, `paused (shutdown)`, …). */
function vmStatus(output) {
  const m = /VM status: (.+)/.exec(output);
  return m ? m[1].trim() : `unreadable (${oneLine(output) || "no output"})`;
}

/** Commands such as system_reset print nothing when they work; any output is QEMU's complaint. */
function expectSilence(command, output) {
  if (output.trim() !== "") throw new Error(`${command}: ${oneLine(output)}`);
}

function oneLine(s) {
  return String(s).replace(/\s+/g, " ").trim().slice(0, 200);
}

module.exports = { ACTIONS, MAX_REQUEST_BYTES, EXIT_WAIT_MS, parseRequest, secretsEqual, formatLogLine, handleRequest };
