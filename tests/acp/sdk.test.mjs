// tests/acp/sdk.test.mjs: sandbox-agent's TypeScript SDK (0.4.2, from npm,
// unmodified) drives agentd over ACP-over-HTTP. Run by suite.sh, which
// installs the SDK into ./sdk and sets AGENTD_BIN.
//
// One agentd with a token; the SDK connects, creates a session on the
// mock agent, prompts, streams the updates, answers a permission and ends
// the session. The same session is then read as universal events.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { SandboxAgent } = await import(
	join(here, "sdk/node_modules/sandbox-agent/dist/index.js"));

const TOKEN = "acp-suite-token";
let agentd, base, dataDir, work, stderr = "";

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

async function api(method, path, body) {
	const r = await fetch(base + path, {
		method,
		headers: {
			Authorization: `Bearer ${TOKEN}`,
			"Content-Type": "application/json",
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await r.text();
	return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function universalEvents(id) {
	const r = await api("GET", `/v1/sessions/${id}/events?limit=10000`);
	assert.equal(r.status, 200);
	return r.json.events;
}

before(async () => {
	dataDir = mkdtempSync(join(tmpdir(), "agentd-acp-data-"));
	work = mkdtempSync(join(tmpdir(), "agentd-acp-work-"));
	const port = await freePort();
	base = `http://127.0.0.1:${port}`;
	agentd = spawn(process.env.AGENTD_BIN, ["serve", "--port",
	    String(port), "--token", TOKEN, "--data-dir", dataDir],
	    { stdio: ["ignore", "ignore", "pipe"] });
	agentd.stderr.on("data", (d) => { stderr += d; });
	for (let i = 0; i < 500; i++) {
		try {
			if ((await fetch(base + "/v1/health")).ok)
				return;
		} catch { /* not yet */ }
		await new Promise((r) => setTimeout(r, 10));
	}
	throw new Error("agentd did not start:\n" + stderr);
});

after(() => {
	agentd?.kill("SIGTERM");
	rmSync(dataDir, { recursive: true, force: true });
	rmSync(work, { recursive: true, force: true });
});

test("the SDK drives a mock session and the log has it", async () => {
	const sdk = await SandboxAgent.connect({ baseUrl: base,
	    token: TOKEN });
	const session = await sdk.createSession({ agent: "mock",
	    cwd: work });
	assert.match(session.agentSessionId, /^acp-/);

	const events = [];
	session.onEvent((e) => events.push(e));
	const asked = [];
	session.onPermissionRequest((req) => {
		asked.push(req);
		void session.respondPermission(req.id, "once");
	});
	const chunks = (text) => events.filter((e) =>
	    e.payload?.params?.update?.sessionUpdate ===
	    "agent_message_chunk").map((e) =>
	    e.payload.params.update.content.text).join("").includes(text);

	// A plain prompt: streamed chunks, then end_turn.
	let r = await session.prompt([{ type: "text", text: "hello" }]);
	assert.equal(r.stopReason, "end_turn");
	assert.ok(r.usage?.totalTokens > 0, "usage in the answer");
	await new Promise((res) => setTimeout(res, 100));
	assert.ok(chunks("echo: hello"), "echo streamed as chunks");
	assert.ok(events.some((e) =>
	    e.payload?.params?.update?.sessionUpdate ===
	    "agent_thought_chunk"), "the thought streamed");

	// A permission, answered through the SDK.
	r = await session.prompt([{ type: "text", text: "permission" }]);
	assert.equal(r.stopReason, "end_turn");
	assert.equal(asked.length, 1, "one permission request");
	assert.equal(asked[0].toolCall.toolCallId.length > 0, true);
	await new Promise((res) => setTimeout(res, 100));
	assert.ok(chunks("permission granted"), "granted after once");
	assert.ok(events.some((e) =>
	    e.payload?.params?.update?.sessionUpdate === "tool_call"),
	    "the tool call streamed");

	// The same session, as universal events.
	const id = session.agentSessionId;
	const list = await api("GET", "/v1/sessions");
	assert.ok(list.json.sessions.some((s) => s.sessionId === id));
	const ev = await universalEvents(id);
	const types = ev.map((e) => e.type);
	assert.equal(types.filter((t) => t === "turn.ended").length, 2);
	assert.ok(ev.some((e) => e.type === "permission.resolved" &&
	    e.data.status === "accept"));
	assert.ok(ev.some((e) => e.type === "item.completed" &&
	    e.data.item.role === "assistant" &&
	    JSON.stringify(e.data.item.content).includes(
	    "permission granted")));
	assert.ok(ev.some((e) => e.type === "item.completed" &&
	    e.data.item.role === "user" &&
	    JSON.stringify(e.data.item.content).includes("permission")));

	// Read-only for universal clients while the ACP server drives it.
	const w = await api("POST", `/v1/sessions/${id}/messages`,
	    { message: "hi" });
	assert.equal(w.status, 409);

	// End it: destroySession, then dispose (DELETE /v1/acp/{id}).
	await sdk.destroySession(session.id);
	await sdk.dispose();
	const servers = await api("GET", "/v1/acp");
	assert.equal(servers.json.servers.length, 0);
	for (let i = 0; i < 300; i++) {
		const info = await api("GET", `/v1/sessions/${id}`);
		if (info.json.ended)
			break;
		await new Promise((res) => setTimeout(res, 10));
	}
	const info = await api("GET", `/v1/sessions/${id}`);
	assert.equal(info.json.ended, true, "the agent was stopped");
	assert.equal((await universalEvents(id)).at(-1).type,
	    "session.ended");
});

test("setModel, setMode and setThoughtLevel reach the agent", async () => {
	const sdk = await SandboxAgent.connect({ baseUrl: base,
	    token: TOKEN });
	const session = await sdk.createSession({ agent: "mock",
	    cwd: work });
	const events = [];
	session.onEvent((e) => events.push(e));
	const said = () => events.filter((e) =>
	    e.payload?.params?.update?.sessionUpdate ===
	    "agent_message_chunk").map((e) =>
	    e.payload.params.update.content.text).join("");

	const opts = await session.getConfigOptions();
	const cat = (c) => opts.find((o) => o.category === c);
	assert.deepEqual(cat("model").options.map((o) => o.value),
	    ["mock-fast", "mock-smart"]);
	assert.deepEqual(cat("mode").options.map((o) => o.value),
	    ["default", "acceptEdits", "plan"]);
	assert.deepEqual(cat("thought_level").options.map((o) => o.value),
	    ["low", "medium", "high"]);
	const modes = await session.getModes();
	assert.ok(modes.availableModes.some((m) => m.id === "plan"));

	await session.setModel("mock-smart");
	await session.setMode("plan");
	await session.setThoughtLevel("high");
	let r = await session.prompt([{ type: "text", text: "whoami" }]);
	assert.equal(r.stopReason, "end_turn");
	await new Promise((res) => setTimeout(res, 100));
	assert.ok(said().includes("model=mock-smart mode=plan effort=high"),
	    said());
	// A value the agent does not offer is refused before it is sent.
	await assert.rejects(session.setModel("gpt-9"));
	// A configId agentd does not know is refused by agentd.
	const bad = await session.rawSend("session/set_config_option",
	    { configId: "colour", value: "red" }).catch((e) => e);
	assert.ok(bad instanceof Error, "an unknown configId is refused");

	// Each change is in the universal log as a config status item.
	const id = session.agentSessionId;
	const ev = await universalEvents(id);
	const changes = ev.filter((e) => e.type === "item.completed" &&
	    e.data.item.kind === "status" &&
	    e.data.item.content[0].label === "config").map((e) =>
	    e.data.item.content[1].json);
	assert.deepEqual(changes, [{ model: "mock-smart" }, { mode: "plan" },
	    { effort: "high" }]);
	const info = await api("GET", `/v1/sessions/${id}`);
	assert.equal(info.json.model, "mock-smart");
	assert.equal(info.json.permissionMode, "plan");
	assert.equal(info.json.effort, "high");

	// createSession's own mode, model and thoughtLevel, the same way.
	const s2 = await sdk.createSession({ agent: "mock", cwd: work,
	    model: "mock-smart", mode: "acceptEdits", thoughtLevel: "low" });
	const ev2 = [];
	s2.onEvent((e) => ev2.push(e));
	r = await s2.prompt([{ type: "text", text: "whoami" }]);
	assert.equal(r.stopReason, "end_turn");
	await new Promise((res) => setTimeout(res, 100));
	assert.ok(ev2.some((e) => e.payload?.params?.update?.content?.text ===
	    "model=mock-smart mode=acceptEdits effort=low"));
	await sdk.destroySession(session.id);
	await sdk.destroySession(s2.id);
	await sdk.dispose();
});
