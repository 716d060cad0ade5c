// tests/acp/real.test.mjs: the unmodified sandbox-agent 0.4.2 SDK drives
// a real agent CLI through agentd's ACP over HTTP. Run by the e2e suite
// (tests/e2e/run.py), which starts the mock model and agentd, and passes:
//   AGENTD_URL      the running agentd (no token)
//   ACP_REAL        {"agent", "cwd", "agentCommand", "env"}: the real CLI
//                   and the environment that points it at the mock model
// The agent's command and environment reach agentd through session/new's
// _meta.agentd, which the SDK passes on unchanged (sessionInit).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { SandboxAgent } = await import(
	join(here, "sdk/node_modules/sandbox-agent/dist/index.js"));
const real = JSON.parse(process.env.ACP_REAL);

test(`the SDK drives ${real.agent} through agentd`, async () => {
	const sdk = await SandboxAgent.connect({ baseUrl:
	    process.env.AGENTD_URL });
	const session = await sdk.createSession({ agent: real.agent,
	    cwd: real.cwd, sessionInit: { cwd: real.cwd, mcpServers: [],
	    _meta: { agentd: { agentCommand: real.agentCommand,
	    env: real.env } } } });
	const events = [];
	session.onEvent((e) => events.push(e));
	const asked = [];
	session.onPermissionRequest((req) => {
		asked.push(req);
		void session.respondPermission(req.id, "once");
	});
	const text = () => events.filter((e) =>
	    e.payload?.params?.update?.sessionUpdate ===
	    "agent_message_chunk").map((e) =>
	    e.payload.params.update.content.text).join("");

	let r = await session.prompt([{ type: "text", text: "hello" }]);
	assert.equal(r.stopReason, "end_turn");
	await new Promise((res) => setTimeout(res, 200));
	assert.match(text(), /Hello! I am a mock model/);

	r = await session.prompt([{ type: "text",
	    text: "please write the file" }]);
	assert.equal(r.stopReason, "end_turn");
	assert.ok(asked.length >= 1, "the agent asked a permission");
	const file = join(real.cwd, "hello.txt");
	assert.ok(existsSync(file), "the file was written");
	assert.equal(readFileSync(file, "utf8"), "hello world\n");

	// The same session, as universal events.
	const id = session.agentSessionId;
	const ev = await (await fetch(`${process.env.AGENTD_URL}` +
	    `/v1/sessions/${id}/events?limit=10000`)).json();
	assert.equal(ev.events.filter((e) => e.type === "turn.ended").length,
	    2);
	assert.ok(ev.events.some((e) => e.type === "permission.resolved" &&
	    e.data.status === "accept"));
	await sdk.destroySession(session.id);
	await sdk.dispose();
});
