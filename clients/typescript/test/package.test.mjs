// The published shape: `npm pack` gives a package with ESM, type
// declarations and the README, and no private flag; installed offline into
// an empty project it works from plain Node.js: a smoke test, every ```js
// block of the README, and examples/serverless-poller run as one process
// per invocation, against a real agentd. With tsc (TS_CLIENT_NPM_DIR, set
// by run.sh) a TypeScript consumer type-checks against the installed
// declarations with NodeNext resolution.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync,
    writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Agentd, TOKEN } from "./agentd.mjs";

const run = promisify(execFile);
const HERE = new URL("..", import.meta.url).pathname;
const TOP = new URL("../../..", import.meta.url).pathname;
const T = { timeout: 120000 };
let agentd, tmp, project, tgz;

before(async () => {
	agentd = await Agentd.start();
	tmp = mkdtempSync(join(tmpdir(), "agentd-pack-"));
	const { stdout } = await run("npm", ["pack", "--pack-destination", tmp,
	    "--loglevel=error"], { cwd: HERE });
	tgz = stdout.trim().split("\n").at(-1);
	project = join(tmp, "project");
	await run("mkdir", [project]);
	writeFileSync(join(project, "package.json"), JSON.stringify({
	    name: "consumer", private: true, type: "module" }));
	copyFileSync(join(tmp, tgz), join(project, tgz));
	await run("npm", ["install", "--offline", "--no-audit", "--no-fund",
	    "--loglevel=error", `./${tgz}`], { cwd: project });
});
after(async () => {
	await agentd?.stop();
	if (tmp)
		rmSync(tmp, { recursive: true, force: true });
});

const env = () => ({ ...process.env, AGENTD_URL: agentd.base,
    AGENTD_TOKEN: TOKEN });

async function node(file, ...args) {
	return run(process.execPath, [file, ...args], { cwd: project,
	    env: env(), timeout: 60000 });
}

test("npm pack: ESM, declarations, README, not private", T, async () => {
	assert.equal(tgz, "agentd-client-0.1.0.tgz");
	const { stdout } = await run("tar", ["tzf", join(tmp, tgz)]);
	const files = stdout.trim().split("\n").sort();
	for (const f of ["package/README.md", "package/dist/index.d.ts",
	    "package/dist/index.js", "package/package.json"])
		assert.ok(files.includes(f), `${f} missing from ${files}`);
	assert.ok(!files.some((f) => f.includes("/test/")), files.join(" "));
	const pkg = JSON.parse(readFileSync(join(project,
	    "node_modules/@agentd/client/package.json"), "utf8"));
	assert.equal(pkg.private, undefined);
	assert.equal(pkg.type, "module");
	assert.equal(pkg.exports["."].types, "./dist/index.d.ts");
	assert.deepEqual(pkg.dependencies ?? {}, {});
	const dts = readFileSync(join(project,
	    "node_modules/@agentd/client/dist/index.d.ts"), "utf8");
	for (const name of ["class AgentdClient", "class Session",
	    "class AgentdError", "eventsSince", "interface TurnResult",
	    "readFsFile", "followProcessLogs", "class ProcessTerminal",
	    "interface ProcessInfo"])
		assert.ok(dts.includes(name), name);
});

test("installed into an empty project, used from plain Node", T,
    async () => {
	writeFileSync(join(project, "smoke.mjs"), `
import { AgentdClient, AgentdError } from "@agentd/client";
const c = await AgentdClient.connect(process.env.AGENTD_URL,
    process.env.AGENTD_TOKEN);
const s = await c.startSession({ agent: "mock" });
const r = await s.run("permission from a package", {
    onPermission: () => "once" });
try { await c.getSession("nope"); } catch (e) {
    console.log(JSON.stringify({ text: r.text, stop: r.stopReason,
        err: e instanceof AgentdError ? e.code : String(e) })); }
await s.delete();
`);
	const { stdout } = await node("smoke.mjs");
	assert.deepEqual(JSON.parse(stdout), { text: "permission granted",
	    stop: "end_turn", err: "session_not_found" });
});

test("the README's examples run", T, async () => {
	const md = readFileSync(join(HERE, "README.md"), "utf8");
	const blocks = [...md.matchAll(/^```js\n([\s\S]*?)^```$/gm)]
	    .map((m) => m[1]);
	assert.ok(blocks.length >= 5, `${blocks.length} blocks`);
	for (const [i, code] of blocks.entries()) {
		const f = `readme${i + 1}.mjs`;
		writeFileSync(join(project, f), code);
		try {
			await node(f);
		} catch (e) {
			assert.fail(`README block ${i + 1} failed:\n${code}\n` +
			    `${e.stderr ?? e}`);
		}
	}
});

test("examples/serverless-poller: start, return, poll with the cursor", T,
    async () => {
	copyFileSync(join(TOP, "examples/serverless-poller/handler.mjs"),
	    join(project, "handler.mjs"));
	const invoke = async (req) => JSON.parse((await node("handler.mjs",
	    JSON.stringify(req))).stdout);
	const started = await invoke({ action: "start",
	    prompt: "permission please" });
	assert.equal(started.cursor, 0);
	let state = started;
	const events = [];
	let answered = 0, polls = 0, text = "";
	for (;;) {
		const r = await invoke({ action: "poll",
		    sessionId: state.sessionId, cursor: state.cursor });
		polls++;
		assert.ok(r.cursor >= state.cursor);
		events.push(...r.events);
		text += r.text;
		state = { sessionId: r.sessionId, cursor: r.cursor };
		for (const p of r.permissions) {
			await invoke({ action: "answer", sessionId: r.sessionId,
			    permissionId: p.permissionId, reply: "once" });
			answered++;
		}
		if (r.done)
			break;
		assert.ok(polls < 200, "the turn did not end");
	}
	// Every event once, in order, whatever the number of invocations.
	assert.deepEqual(events.map((e) => e.sequence),
	    events.map((_, i) => i + 1));
	assert.equal(answered, 1);
	assert.equal(events.at(-1).type, "turn.ended");
	assert.equal(events.at(-1).data.stop_reason, "end_turn");
	assert.match(text, /permission granted/);
	const again = await invoke({ action: "poll",
	    sessionId: state.sessionId, cursor: state.cursor });
	assert.deepEqual(again.events, []);
	assert.equal(again.cursor, state.cursor);
	await invoke({ action: "stop", sessionId: state.sessionId });
});

const tsc = process.env.TS_CLIENT_NPM_DIR &&
    join(process.env.TS_CLIENT_NPM_DIR, "node_modules/.bin/tsc");
test("a TypeScript consumer type-checks against the package", {
    ...T, skip: tsc && existsSync(tsc) ? false : "no tsc" }, async () => {
	writeFileSync(join(project, "consumer.ts"), `
import { AgentdClient, AgentdError, type UniversalEvent, type TurnResult,
    type EventBatch, type FsEntry, type ProcessInfo, type ProcessRunResult,
    logText } from "@agentd/client";
export async function f(url: string): Promise<number> {
	const c = await AgentdClient.connect(url, "t");
	const s = await c.startSession({ agent: "mock", install: false });
	const r: TurnResult = await s.run("x", {
	    onPermission: (ev) => ev.data.metadata.tool_name === "Write" ?
	        "once" : false,
	    onQuestion: (ev) => ev.data.questions.map((q) => [q.options[0].label]),
	});
	const b: EventBatch = await s.eventsSince(0, { limit: 10 });
	const e: UniversalEvent | undefined = b.events[0];
	if (e?.type === "item.delta")
		return e.data.delta.length;
	try { await s.send("y", { interrupt: true }); }
	catch (err) { if (err instanceof AgentdError) return err.status; }
	const bytes: Uint8Array = await c.readFsFile("/x", {
	    range: { start: 1, end: 2 } });
	const w = await c.writeFsFile("/x", bytes, { parents: false });
	const ls: FsEntry[] = await c.listFsEntries("/");
	const run: ProcessRunResult = await c.runProcess({ command: "true" });
	const p: ProcessInfo = await c.createProcess({ command: "sh",
	    tty: true });
	let text = "";
	for await (const entry of c.followProcessLogs(p.id, { since: 0 }))
		text += logText([entry]);
	const term = await c.connectProcessTerminal(p.id);
	term.resize(80, 24);
	term.input("exit\\n");
	const code: number | null | undefined = await term.closed;
	return r.events.length + b.cursor + w.bytesWritten + ls.length +
	    (run.exitCode ?? 0) + text.length + (code ?? 0);
}
`);
	writeFileSync(join(project, "bad.ts"), `
import { AgentdClient } from "@agentd/client";
export const n: number = new AgentdClient({ baseUrl: "x" }).session("s").id;
`);
	writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
	    compilerOptions: { noEmit: true, strict: true, skipLibCheck: true,
	    target: "es2022", module: "nodenext",
	    moduleResolution: "nodenext", types: [],
	    lib: ["es2022", "dom", "dom.asynciterable"] },
	    files: ["consumer.ts", "bad.ts"] }));
	// consumer.ts is clean, and the declarations are not `any`: the
	// wrong type in bad.ts is the one error.
	await assert.rejects(run(tsc, ["-p", "."], { cwd: project }), (e) => {
		const errors = e.stdout.trim().split("\n")
		    .filter((l) => /error TS/.test(l));
		assert.equal(errors.length, 1, e.stdout);
		assert.match(errors[0], /^bad\.ts\(3,14\): error TS2322/);
		return true;
	});
});
