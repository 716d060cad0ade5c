// tests/acp/config.test.mjs: the unmodified sandbox-agent 0.4.2 SDK's
// setModel, setMode and setThoughtLevel on a session of a native agent
// (Claude Code, Codex: not ACP agents) through agentd's ACP over HTTP,
// and the next turn uses them: the mock model is asked for that model
// (and, for Codex, that reasoning effort). Run by tests/e2e/run.py with:
//   AGENTD_URL, ACP_REAL   as for real.test.mjs
//   ACP_CONFIG             {"mockUrl", "model", "mode", "thoughtLevel"?}:
//                          what to set; no thoughtLevel: the agent has
//                          none, and setThoughtLevel must be refused

import { test } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { SandboxAgent } = await import(
	join(here, "sdk/node_modules/sandbox-agent/dist/index.js"));
const real = JSON.parse(process.env.ACP_REAL);
const cfg = JSON.parse(process.env.ACP_CONFIG);

test(`setModel, setMode, setThoughtLevel on ${real.agent}`, async () => {
	const sdk = await SandboxAgent.connect({ baseUrl:
	    process.env.AGENTD_URL });
	const session = await sdk.createSession({ agent: real.agent,
	    cwd: real.cwd, sessionInit: { cwd: real.cwd, mcpServers: [],
	    _meta: { agentd: { agentCommand: real.agentCommand,
	    env: real.env } } } });
	let r = await session.prompt([{ type: "text", text: "hello" }]);
	assert.equal(r.stopReason, "end_turn");

	await session.setModel(cfg.model);
	await session.setMode(cfg.mode);
	if (cfg.thoughtLevel)
		await session.setThoughtLevel(cfg.thoughtLevel);
	else
		await assert.rejects(session.setThoughtLevel("high"),
		    /thought_level/);
	await fetch(cfg.mockUrl + "/_mock/reset", { method: "POST",
	    headers: { "Content-Type": "application/json" }, body: "{}" });
	r = await session.prompt([{ type: "text", text: "hello" }]);
	assert.equal(r.stopReason, "end_turn");
	const log = (await (await fetch(cfg.mockUrl +
	    "/_mock/requests")).json()).filter((e) => e.prompt === "hello");
	assert.ok(log.length > 0, "the mock model got the turn");
	for (const e of log) {
		assert.equal(e.model, cfg.model);
		if (cfg.thoughtLevel)
			assert.equal(e.effort, cfg.thoughtLevel);
	}
	const id = session.agentSessionId;
	const info = await (await fetch(`${process.env.AGENTD_URL}` +
	    `/v1/sessions/${id}`)).json();
	assert.equal(info.model, cfg.model);
	assert.equal(info.permissionMode, cfg.mode);
	await sdk.destroySession(session.id);
	await sdk.dispose();
});
