// tests/sandbox/sdk.test.mjs: sandbox-agent's TypeScript SDK (0.4.2, from
// npm, unmodified) against agentd's files, processes and terminals, and
// the MCP and skills config of a directory (issue 15). Run by
// suite.sh, which installs the SDK into ./sdk and sets AGENTD_BIN.
//
// One agentd with a token and HOME in a fresh directory; every SDK call of
// issue 14 is made and its result checked against the disk or the
// process: bytes read back equal bytes written, a tar of 1,000 files lands
// whole, a process's exit code and output, its logs (fetched and
// followed), input, stop and kill, and a bash on a terminal whose output
// after `stty size` shows the size the SDK set.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
	mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync,
	writeFileSync, existsSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { SandboxAgent, SandboxAgentError } = await import(
	join(here, "sdk/node_modules/sandbox-agent/dist/index.js"));
const WS = globalThis.WebSocket ??
	(await import(join(here, "sdk/node_modules/ws/wrapper.mjs"))).WebSocket;

const TOKEN = "sandbox-suite-token";
let agentd, base, top, home, sdk, stderr = "";

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
		s.on("error", reject);
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, what, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await sleep(25);
	}
}

const decode = (entries) => Buffer.concat(entries.map(
	(e) => Buffer.from(e.data, e.encoding === "base64" ? "base64" : "utf8")))
	.toString();

before(async () => {
	top = mkdtempSync(join(tmpdir(), "agentd-sandbox-"));
	home = join(top, "home");
	mkdirSync(home);
	const port = await freePort();
	base = `http://127.0.0.1:${port}`;
	const env = { ...process.env, HOME: home };
	for (const k of Object.keys(env))
		if (k.startsWith("AGENTD_"))
			delete env[k];
	agentd = spawn(process.env.AGENTD_BIN, ["serve", "--port", String(port),
	    "--data-dir", join(top, "data"), "--token", TOKEN],
	    { env, stdio: ["ignore", "ignore", "pipe"] });
	agentd.stderr.on("data", (d) => { stderr += d; });
	process.on("exit", () => agentd.kill("SIGKILL"));
	await until(async () => {
		try {
			return (await fetch(base + "/v1/health")).ok;
		} catch {
			return false;
		}
	}, "agentd to answer health");
	sdk = await SandboxAgent.connect({ baseUrl: base, token: TOKEN });
});

after(async () => {
	await sdk?.dispose?.();
	agentd?.kill("SIGTERM");
	await sleep(100);
	rmSync(top, { recursive: true, force: true });
});

test("writeFsFile, readFsFile, statFs, listFsEntries: bytes in equal bytes out",
    async () => {
	const bytes = new Uint8Array(randomBytes(3 << 20));
	const w = await sdk.writeFsFile({ path: "sdk/dir one/data.bin" }, bytes);
	assert.deepEqual(w, { path: join(home, "sdk/dir one/data.bin"),
	    bytesWritten: bytes.length });
	assert.deepEqual(readFileSync(join(home, "sdk/dir one/data.bin")),
	    Buffer.from(bytes));
	const back = await sdk.readFsFile({ path: "sdk/dir one/data.bin" });
	assert.ok(back instanceof Uint8Array);
	assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(bytes)), 0);

	await sdk.writeFsFile({ path: "sdk/dir one/caf\u00e9.txt" }, "h\u00e9 there");
	const st = await sdk.statFs({ path: "sdk/dir one/caf\u00e9.txt" });
	assert.equal(st.entryType, "file");
	assert.equal(st.size, Buffer.byteLength("h\u00e9 there"));
	assert.equal(st.path, join(home, "sdk/dir one/caf\u00e9.txt"));
	const entries = await sdk.listFsEntries({ path: "sdk/dir one" });
	assert.deepEqual(entries.map((e) => [e.name, e.entryType, e.size]),
	    [["caf\u00e9.txt", "file", 9], ["data.bin", "file", bytes.length]]);
	assert.equal((await sdk.statFs({ path: "sdk" })).entryType, "directory");
});

test("mkdirFs, moveFs, deleteFsEntry, and their errors", async () => {
	const m = await sdk.mkdirFs({ path: "sdk/a/b/c" });
	assert.deepEqual(m, { path: join(home, "sdk/a/b/c") });
	assert.ok(existsSync(join(home, "sdk/a/b/c")));
	await sdk.writeFsFile({ path: "sdk/a/x.txt" }, "x");
	const mv = await sdk.moveFs({ from: "sdk/a/x.txt", to: "sdk/a/b/c/y.txt" });
	assert.deepEqual(mv, { from: join(home, "sdk/a/x.txt"),
	    to: join(home, "sdk/a/b/c/y.txt") });
	assert.equal(readFileSync(join(home, "sdk/a/b/c/y.txt"), "utf8"), "x");
	await sdk.writeFsFile({ path: "sdk/a/z.txt" }, "z");
	await assert.rejects(sdk.moveFs({ from: "sdk/a/z.txt",
	    to: "sdk/a/b/c/y.txt" }), (e) => e instanceof SandboxAgentError &&
	    e.status === 409);
	await sdk.moveFs({ from: "sdk/a/z.txt", to: "sdk/a/b/c/y.txt",
	    overwrite: true });
	assert.equal(readFileSync(join(home, "sdk/a/b/c/y.txt"), "utf8"), "z");
	await assert.rejects(sdk.deleteFsEntry({ path: "sdk/a" }),
	    (e) => e.status === 409);
	const d = await sdk.deleteFsEntry({ path: "sdk/a", recursive: true });
	assert.deepEqual(d, { path: join(home, "sdk/a") });
	assert.ok(!existsSync(join(home, "sdk/a")));
	await assert.rejects(sdk.statFs({ path: "sdk/a" }), (e) =>
	    e.status === 404 && /No such file/.test(e.problem?.detail ?? ""));
	await assert.rejects(sdk.readFsFile({ path: "../etc/passwd" }),
	    (e) => e.status === 400);
});

test("uploadFsBatch: a tar of 1,000 files lands whole", async () => {
	const src = join(top, "tree");
	const want = new Map();
	for (let i = 0; i < 1000; i++) {
		const rel = `d${i % 20}/file ${i}.txt`;
		mkdirSync(join(src, `d${i % 20}`), { recursive: true });
		const body = `file ${i}\n`.repeat(1 + (i % 13));
		writeFileSync(join(src, rel), body);
		want.set(rel, body);
	}
	const tar = execFileSync("tar", ["-cf", "-", "-C", src, "."],
	    { maxBuffer: 64 << 20 });
	const r = await sdk.uploadFsBatch(tar, { path: "sdk/batch" });
	assert.equal(r.truncated, false);
	// 1,000 files and 20 directories (the archive's "./" is the
	// destination itself).
	assert.equal(r.paths.length, 1020);
	for (const [rel, body] of want)
		assert.equal(readFileSync(join(home, "sdk/batch", rel), "utf8"),
		    body, rel);
	let n = 0;
	for (const d of readdirSync(join(home, "sdk/batch")))
		n += readdirSync(join(home, "sdk/batch", d)).length;
	assert.equal(n, 1000);
	const one = await sdk.readFsFile({ path: "sdk/batch/d7/file 7.txt" });
	assert.equal(Buffer.from(one).toString(), want.get("d7/file 7.txt"));
});

test("runProcess: exit code, stdout and stderr", async () => {
	const r = await sdk.runProcess({ command: "sh",
	    args: ["-c", "echo out; printf 'err\\n' >&2; pwd; exit 3"] });
	assert.equal(r.exitCode, 3);
	assert.equal(r.stdout, `out\n${home}\n`);
	assert.equal(r.stderr, "err\n");
	assert.equal(r.timedOut, false);
	assert.equal(r.stdoutTruncated, false);
	assert.equal(typeof r.durationMs, "number");
	const t = await sdk.runProcess({ command: "sleep", args: ["10"],
	    timeoutMs: 200 });
	assert.equal(t.timedOut, true);
	assert.equal(t.exitCode, null);
	const big = await sdk.runProcess({ command: "sh",
	    args: ["-c", "yes | head -c 100000"], maxOutputBytes: 1000 });
	assert.equal(big.stdout, "y\n".repeat(500));
	assert.equal(big.stdoutTruncated, true);
	assert.equal(big.exitCode, 0);
});

test("createProcess, sendProcessInput, getProcessLogs, stopProcess, killProcess",
    async () => {
	const p = await sdk.createProcess({ command: "cat", interactive: true });
	assert.match(p.id, /^proc_\d+$/);
	assert.equal(p.status, "running");
	assert.equal(typeof p.pid, "number");
	const inp = await sdk.sendProcessInput(p.id,
	    { data: Buffer.from("hello over stdin\n").toString("base64"),
	    encoding: "base64" });
	assert.deepEqual(inp, { bytesWritten: 17 });
	await sdk.sendProcessInput(p.id, { data: "and utf8\n", encoding: "utf8" });
	const logs = await until(async () => {
		const l = await sdk.getProcessLogs(p.id);
		return decode(l.entries) === "hello over stdin\nand utf8\n" && l;
	}, "cat to echo its input");
	assert.equal(logs.processId, p.id);
	assert.equal(logs.stream, "combined");
	assert.ok(logs.entries.every((e) => e.stream === "stdout" &&
	    e.encoding === "base64" && e.sequence > 0 && e.timestampMs > 0));
	const tail = await sdk.getProcessLogs(p.id, { tail: 1 });
	assert.equal(tail.entries.length, 1);
	assert.deepEqual(tail.entries[0], logs.entries.at(-1));
	const since = await sdk.getProcessLogs(p.id,
	    { since: logs.entries[0].sequence });
	assert.deepEqual(since.entries, logs.entries.slice(1));

	const stopped = await sdk.stopProcess(p.id, { waitMs: 5000 });
	assert.equal(stopped.status, "exited");
	assert.equal(stopped.exitCode, null); /* SIGTERM */
	assert.equal(stopped.exitSignal, 15);
	assert.equal((await sdk.getProcess(p.id)).status, "exited");
	await assert.rejects(sdk.sendProcessInput(p.id, { data: "eA==" }),
	    (e) => e.status === 409);

	const s = await sdk.createProcess({ command: "sh",
	    args: ["-c", "trap '' TERM; echo ready; exec sleep 100"] });
	await until(async () => decode((await sdk.getProcessLogs(s.id)).entries)
	    === "ready\n", "the trap to be set");
	const k = await sdk.killProcess(s.id, { waitMs: 5000 });
	assert.equal(k.status, "exited");
	assert.equal(k.exitSignal, 9);

	const list = await sdk.listProcesses();
	assert.ok(list.processes.some((x) => x.id === p.id));
	await sdk.deleteProcess(p.id);
	await sdk.deleteProcess(s.id);
	await assert.rejects(sdk.getProcess(p.id), (e) => e.status === 404);
	assert.ok(!(await sdk.listProcesses()).processes.some(
	    (x) => x.id === p.id || x.id === s.id));
});

test("followProcessLogs streams live entries", async () => {
	const p = await sdk.createProcess({ command: "sh", args: ["-c",
	    "for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"] });
	const got = [];
	const sub = await sdk.followProcessLogs(p.id, (e) => got.push(e));
	await sub.closed; /* the stream ends with the process */
	assert.equal(decode(got), "line 1\nline 2\nline 3\nline 4\nline 5\n");
	const seqs = got.map((e) => e.sequence);
	assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
	const again = [];
	const sub2 = await sdk.followProcessLogs(p.id, (e) => again.push(e),
	    { since: seqs[1] });
	await sub2.closed;
	assert.deepEqual(again, got.slice(2));
});

test("a bash on a terminal: input, resize shown by stty size, exit",
    async () => {
	const p = await sdk.createProcess({ command: "bash",
	    args: ["--norc", "--noprofile"], tty: true,
	    env: { PS1: "$ " } });
	assert.equal(p.tty, true);
	const term = sdk.connectProcessTerminal(p.id, { WebSocket: WS });
	let out = "", ready = null, exit = null;
	term.onReady((f) => { ready = f; });
	term.onData((b) => { out += Buffer.from(b).toString(); });
	term.onExit((f) => { exit = f; });
	await until(() => ready, "the ready frame");
	assert.equal(ready.processId, p.id);
	term.resize({ cols: 123, rows: 45 });
	await sleep(100);
	term.sendInput("stty size\n");
	await until(() => /\b45 123\b/.test(out), "stty size to show 45 123");
	const r = await sdk.resizeProcessTerminal(p.id, { cols: 100, rows: 30 });
	assert.deepEqual(r, { cols: 100, rows: 30 });
	term.sendInput(new TextEncoder().encode("stty size; exit 7\n"));
	await until(() => exit, "the exit frame");
	assert.match(out, /\b30 100\b/);
	assert.equal(exit.exitCode, 7);
	await term.closed;
	const info = await sdk.getProcess(p.id);
	assert.equal(info.exitCode, 7);
	const logs = await sdk.getProcessLogs(p.id);
	assert.equal(logs.stream, "pty");
	assert.match(decode(logs.entries), /45 123/);
});

test("getProcessConfig and setProcessConfig", async () => {
	const c = await sdk.getProcessConfig();
	assert.deepEqual(c, { maxConcurrentProcesses: 64,
	    defaultRunTimeoutMs: 30000, maxRunTimeoutMs: 300000,
	    maxOutputBytes: 1048576, maxLogBytesPerProcess: 10485760,
	    maxInputBytesPerRequest: 65536 });
	const n = await sdk.setProcessConfig({ ...c, maxInputBytesPerRequest: 8 });
	assert.equal(n.maxInputBytesPerRequest, 8);
	const p = await sdk.createProcess({ command: "cat" });
	await assert.rejects(sdk.sendProcessInput(p.id,
	    { data: "0123456789", encoding: "utf8" }), (e) => e.status === 413);
	await sdk.setProcessConfig(c);
	await sdk.killProcess(p.id);
	await assert.rejects(sdk.setProcessConfig({ ...c,
	    maxConcurrentProcesses: 0 }), (e) => e.status === 400);
});

test("setMcpConfig, getMcpConfig, deleteMcpConfig and the skills ones (issue 15)",
    async () => {
	const directory = join(home, "project");
	mkdirSync(directory, { recursive: true });
	const mcp = { type: "local", command: "python3", args: ["srv.py"],
	    env: { TOKEN: "t" } };
	await sdk.setMcpConfig({ directory, mcpName: "probe" }, mcp);
	assert.deepEqual(await sdk.getMcpConfig({ directory, mcpName: "probe" }),
	    mcp);
	await sdk.deleteMcpConfig({ directory, mcpName: "probe" });
	await assert.rejects(sdk.getMcpConfig({ directory, mcpName: "probe" }),
	    (e) => e instanceof SandboxAgentError && e.status === 404);
	const skills = { sources: [{ type: "local", source: directory }] };
	await sdk.setSkillsConfig({ directory, skillName: "mine" }, skills);
	assert.deepEqual(await sdk.getSkillsConfig({ directory,
	    skillName: "mine" }), skills);
	await sdk.deleteSkillsConfig({ directory, skillName: "mine" });
	await assert.rejects(sdk.getSkillsConfig({ directory,
	    skillName: "mine" }), (e) => e.status === 404);
	await assert.rejects(sdk.setSkillsConfig({ directory, skillName: "gh" },
	    { sources: [{ type: "github", source: "owner/repo" }] }),
	    (e) => e.status === 422);
	await assert.rejects(sdk.setMcpConfig({ directory: "relative",
	    mcpName: "x" }, mcp), (e) => e.status === 400);
});
