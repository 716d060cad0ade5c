// clients/typescript: the files and processes calls (/v1/fs/*,
// /v1/processes/*) and the process terminal against a real agentd.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentdClient, AgentdError, logBytes, logText }
    from "../dist/index.js";
import { Agentd, TOKEN, sleep } from "./agentd.mjs";

let agentd, client, dir;
const T = { timeout: 30000 };
const HAS_WS = typeof WebSocket === "function";

before(async () => {
	agentd = await Agentd.start();
	client = new AgentdClient({ baseUrl: agentd.base, token: TOKEN });
	dir = mkdtempSync(join(tmpdir(), "agentd-client-fs-"));
});
after(async () => {
	await agentd?.stop();
	if (dir)
		rmSync(dir, { recursive: true, force: true });
});

const isProblem = (status) => (e) => {
	assert.ok(e instanceof AgentdError, `not an AgentdError: ${e}`);
	assert.equal(e.status, status, e.message);
	assert.ok(e.detail.length > 0 && e.detail !== e.title,
	    `no detail: ${e.message}`);
	return true;
};

// A ustar archive of { name: Uint8Array }.
function tar(files) {
	const blocks = [];
	const te = new TextEncoder();
	for (const [name, data] of Object.entries(files)) {
		const h = new Uint8Array(512);
		const put = (off, len, s) => h.set(te.encode(s).subarray(0, len),
		    off);
		put(0, 100, name);
		put(100, 8, "0000644\0");
		put(108, 8, "0000000\0");
		put(116, 8, "0000000\0");
		put(124, 12, data.length.toString(8).padStart(11, "0") + "\0");
		put(136, 12, Math.floor(Date.now() / 1000).toString(8)
		    .padStart(11, "0") + "\0");
		put(148, 8, "        ");
		put(156, 1, "0");
		put(257, 8, "ustar\x0000");
		const sum = h.reduce((a, b) => a + b, 0);
		put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
		blocks.push(h, data, new Uint8Array((512 - data.length % 512) % 512));
	}
	blocks.push(new Uint8Array(1024));
	const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
	let at = 0;
	for (const b of blocks) {
		out.set(b, at);
		at += b.length;
	}
	return out;
}

test("write bytes, read them back equal, ranges, stat, list", T, async () => {
	// Every byte value, and sequences that are not UTF-8.
	const bytes = new Uint8Array(4096 + 7);
	for (let i = 0; i < bytes.length; i++)
		bytes[i] = (i * 131 + 7) & 0xff;
	bytes.set([0xff, 0xfe, 0xc3, 0x28, 0x80, 0x00], 0);
	const p = join(dir, "new parent", "bin ärgerlich.dat");
	const w = await client.writeFsFile(p, bytes);
	assert.deepEqual(w, { path: p, bytesWritten: bytes.length });
	assert.deepEqual(await client.readFsFile(p), bytes);
	assert.deepEqual(await client.readFsFile(p,
	    { range: { start: 10, end: 19 } }), bytes.subarray(10, 20));
	assert.deepEqual(await client.readFsFile(p, { range: { start: 4000 } }),
	    bytes.subarray(4000));
	assert.deepEqual(await client.readFsFile(p, { range: { suffix: 5 } }),
	    bytes.subarray(bytes.length - 5));
	await assert.rejects(client.readFsFile(p,
	    { range: { start: bytes.length + 10 } }), isProblem(416));
	// Replaced atomically by a shorter one; a string is UTF-8.
	await client.writeFsFile(p, "héllo");
	assert.equal(new TextDecoder().decode(await client.readFsFile(p)),
	    "héllo");
	const st = await client.statFs(p);
	assert.equal(st.entryType, "file");
	assert.equal(st.size, 6);
	assert.equal(st.path, p);
	assert.match(st.modified, /^\d{4}-\d\d-\d\dT.*Z$/);
	const list = await client.listFsEntries(join(dir, "new parent"));
	assert.deepEqual(list.map((e) => [e.name, e.entryType, e.size]),
	    [["bin ärgerlich.dat", "file", 6]]);
	// parents: false refuses a missing parent.
	await assert.rejects(client.writeFsFile(join(dir, "no", "x"), "x",
	    { parents: false }), isProblem(404));
	await assert.rejects(client.statFs(join(dir, "missing")),
	    isProblem(404));
	await assert.rejects(client.readFsFile(dir), isProblem(409));
	await assert.rejects(client.listFsEntries(`${dir}/../etc`),
	    isProblem(400));
});

test("mkdir, move, delete", T, async () => {
	const a = join(dir, "m", "a", "b");
	assert.deepEqual(await client.mkdirFs(a), { path: a });
	await client.mkdirFs(a);	// an existing one is fine
	await client.writeFsFile(join(a, "f.txt"), "one");
	await client.writeFsFile(join(dir, "m", "g.txt"), "two");
	const to = join(dir, "m", "moved");
	assert.deepEqual(await client.moveFs(join(dir, "m", "a"), to),
	    { from: join(dir, "m", "a"), to });
	assert.equal(new TextDecoder().decode(
	    await client.readFsFile(join(to, "b", "f.txt"))), "one");
	await assert.rejects(client.statFs(join(dir, "m", "a")), isProblem(404));
	// Onto an existing path: 409 unless overwrite.
	await client.writeFsFile(join(dir, "m", "h.txt"), "three");
	await assert.rejects(client.moveFs(join(dir, "m", "g.txt"),
	    join(dir, "m", "h.txt")), isProblem(409));
	await client.moveFs(join(dir, "m", "g.txt"), join(dir, "m", "h.txt"),
	    { overwrite: true });
	assert.equal(new TextDecoder().decode(
	    await client.readFsFile(join(dir, "m", "h.txt"))), "two");
	// A directory that is not empty needs recursive.
	await assert.rejects(client.deleteFsEntry(to), isProblem(409));
	assert.deepEqual(await client.deleteFsEntry(to, { recursive: true }),
	    { path: to });
	await client.deleteFsEntry(join(dir, "m", "h.txt"));
	assert.deepEqual(await client.listFsEntries(join(dir, "m")), []);
	await assert.rejects(client.deleteFsEntry(to), isProblem(404));
});

test("a tar of some files uploads whole", T, async () => {
	const files = {};
	for (let i = 0; i < 40; i++) {
		const b = new Uint8Array(i * 97 + 1);
		for (let j = 0; j < b.length; j++)
			b[j] = (i + j * 7) & 0xff;
		files[`d${i % 4}/sub/file-${i}.bin`] = b;
	}
	const at = join(dir, "unpacked");
	const r = await client.uploadFsBatch(at, tar(files));
	assert.equal(r.truncated, false);
	assert.deepEqual(new Set(r.paths),
	    new Set(Object.keys(files).map((n) => join(at, n))));
	for (const [name, data] of Object.entries(files))
		assert.deepEqual(await client.readFsFile(join(at, name)), data,
		    name);
	// An archive cut short is refused with the reason.
	await assert.rejects(client.uploadFsBatch(at,
	    tar(files).subarray(0, 700)), isProblem(400));
});

test("run a process: exit code, stdout, stderr", T, async () => {
	const r = await client.runProcess({ command: "sh",
	    args: ["-c", "echo out; echo err >&2; exit 3"] });
	assert.equal(r.exitCode, 3);
	assert.equal(r.stdout, "out\n");
	assert.equal(r.stderr, "err\n");
	assert.equal(r.timedOut, false);
	assert.equal(r.stdoutTruncated, false);
	const t = await client.runProcess({ command: "sleep", args: ["5"],
	    timeoutMs: 200 });
	assert.equal(t.timedOut, true);
	assert.equal(t.exitCode, null);
	await assert.rejects(client.runProcess({ command: "true",
	    cwd: join(dir, "no-such-dir") }), isProblem(400));
});

test("a long-running process's logs followed live", T, async () => {
	const p = await client.createProcess({ command: "sh", args: ["-c",
	    "for i in 1 2 3 4 5; do echo line$i; sleep 0.3; done; " +
	    "echo bye >&2"] });
	assert.equal(p.status, "running");
	assert.ok((await client.listProcesses()).some((x) => x.id === p.id));
	const seen = [];
	let runningAtFirst;
	for await (const e of client.followProcessLogs(p.id)) {
		if (seen.length === 0)
			runningAtFirst = (await client.getProcess(p.id)).status;
		seen.push(e);
	}
	assert.equal(runningAtFirst, "running", "the log was not live");
	assert.equal(logText(seen.filter((e) => e.stream === "stdout")),
	    "line1\nline2\nline3\nline4\nline5\n");
	assert.equal(logText(seen.filter((e) => e.stream === "stderr")),
	    "bye\n");
	for (let i = 1; i < seen.length; i++)
		assert.ok(seen[i].sequence > seen[i - 1].sequence);
	const info = await client.getProcess(p.id);
	assert.equal(info.status, "exited");
	assert.equal(info.exitCode, 0);
	// The same entries without follow; since and tail.
	const logs = await client.getProcessLogs(p.id);
	assert.deepEqual(logs.entries, seen);
	const tail = await client.getProcessLogs(p.id, { tail: 1 });
	assert.deepEqual(tail.entries, seen.slice(-1));
	const out = await client.getProcessLogs(p.id, { stream: "stdout",
	    since: seen[1].sequence });
	assert.ok(out.entries.every((e) => e.stream === "stdout" &&
	    e.sequence > seen[1].sequence));
	// Following an ended process gives what is kept, then ends.
	const again = [];
	for await (const e of client.followProcessLogs(p.id,
	    { since: seen[0].sequence }))
		again.push(e);
	assert.deepEqual(again, seen.slice(1));
	await client.deleteProcess(p.id);
	await assert.rejects(client.getProcess(p.id), isProblem(404));
});

test("stdin input, stop, kill, remove", T, async () => {
	const cat = await client.createProcess({ command: "cat",
	    interactive: true });
	assert.deepEqual(await client.sendProcessInput(cat.id, "hello\n"),
	    { bytesWritten: 6 });
	const raw = new Uint8Array([0xff, 0x00, 0x0a]);
	assert.deepEqual(await client.sendProcessInput(cat.id, raw),
	    { bytesWritten: 3 });
	const got = [];
	for await (const e of client.followProcessLogs(cat.id)) {
		got.push(...logBytes(e));
		if (got.length >= 9)
			break;
	}
	assert.deepEqual(got, [...new TextEncoder().encode("hello\n"), ...raw]);
	await assert.rejects(client.deleteProcess(cat.id), isProblem(409));
	const stopped = await client.stopProcess(cat.id);
	assert.equal(stopped.status, "exited");
	await assert.rejects(client.sendProcessInput(cat.id, "late"),
	    isProblem(409));
	await client.deleteProcess(cat.id);

	const sl = await client.createProcess({ command: "sleep",
	    args: ["100"] });
	const killed = await client.killProcess(sl.id);
	assert.equal(killed.status, "exited");
	assert.equal(killed.exitCode, null);
	await client.deleteProcess(sl.id);
	await assert.rejects(client.stopProcess("proc_999999"), isProblem(404));
	await assert.rejects(client.createProcess({ command: "" }),
	    isProblem(400));
});

test("followProcessLogs survives kill -9 and restart of agentd", T,
    async () => {
	const p = await client.createProcess({ command: "sh", args: ["-c",
	    "i=0; while :; do i=$((i+1)); echo n$i; sleep 0.05; done"] });
	const seen = [];
	const retries = [];
	let restart;
	// Killed while the iteration waits for the next entry, and down for
	// 300 ms: the follower sees the drop, retries, and goes on after the
	// restart, which reports the process ended.
	for await (const e of client.followProcessLogs(p.id,
	    { reconnectDelayMs: 50, onReconnect: (at) => retries.push(at) })) {
		seen.push(e);
		if (seen.length === 5)
			restart = (async () => {
				await agentd.kill();
				await sleep(300);
				await agentd.up();
			})();
	}
	await restart;
	assert.ok(retries.length >= 1, "it did not reconnect");
	assert.ok(retries.every((at) => at >= 5), retries);
	for (let i = 1; i < seen.length; i++)
		assert.equal(seen[i].sequence, seen[i - 1].sequence + 1,
		    "a gap or a repeat");
	// Every line the log kept, once, in order.
	const kept = await client.getProcessLogs(p.id);
	assert.deepEqual(seen, kept.entries);
	const lines = logText(seen).split("\n").filter((l) => l !== "");
	assert.deepEqual(lines, lines.map((_, i) => `n${i + 1}`));
	assert.ok(lines.length >= 5);
	const info = await client.getProcess(p.id);
	assert.equal(info.status, "exited");
	await client.deleteProcess(p.id);
});

test("the terminal: input, resize, output, exit", { ...T,
    skip: HAS_WS ? false : "no WebSocket in this node" }, async () => {
	const p = await client.createProcess({ command: "sh", tty: true });
	assert.equal(p.tty, true);
	const term = await client.connectProcessTerminal(p.id);
	let text = "";
	const dec = new TextDecoder();
	const until = async (re) => {
		for await (const b of term.output()) {
			text += dec.decode(b, { stream: true });
			if (re.test(text))
				return;
		}
		assert.fail(`the terminal closed before ${re}: ${text}`);
	};
	term.resize(100, 30);
	term.input("stty size; echo mark-$((6*7))\n");
	await until(/30 100[\s\S]*mark-42/);
	assert.deepEqual(await client.resizeProcessTerminal(p.id,
	    { cols: 90, rows: 20 }), { cols: 90, rows: 20 });
	term.input(new TextEncoder().encode("stty size; exit 4\n"));
	await until(/20 90/);
	assert.equal(await term.closed, 4);
	assert.equal(term.exitCode, 4);
	// A process without a tty has no terminal: the HTTP answer's 409.
	const plain = await client.createProcess({ command: "sleep",
	    args: ["10"] });
	await assert.rejects(client.connectProcessTerminal(plain.id),
	    isProblem(409));
	await client.killProcess(plain.id);
	await assert.rejects(client.connectProcessTerminal("proc_999999"),
	    isProblem(404));
});
