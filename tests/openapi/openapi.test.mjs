// tests/openapi/openapi.test.mjs: docs/openapi.json is a valid OpenAPI 3.1
// document, is what GET /v1/openapi.json serves, names exactly the routes
// of supervisor/http/api.c (each answered by the real server, with a status the
// document lists), and its schemas accept what a mock session really says.
//
// Run by tests/openapi/run.sh (AGENTD_BIN, OPENAPI_NODE_MODULES).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const TOP = new URL("../../", import.meta.url).pathname;
const DOC_PATH = join(TOP, "docs/openapi.json");
const DOC_TEXT = readFileSync(DOC_PATH, "utf8");
const DOC = JSON.parse(DOC_TEXT);
const MODULES = process.env.OPENAPI_NODE_MODULES;
const BIN = process.env.AGENTD_BIN ?? join(TOP, "build/agentd");
const TOKEN = "openapi-test-token";
const METHODS = ["get", "post", "put", "delete", "options", "patch", "head"];

const require = createRequire(join(MODULES, "x.js"));
const { Validator } = await import(pathToFileURL(
    join(MODULES, "@seriousme/openapi-schema-validator/index.js")).href);
const Ajv2020 = require("ajv/dist/2020").default;

let server;

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.on("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startAgentd() {
	const port = await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), "agentd-openapi-"));
	const env = { ...process.env };
	for (const k of Object.keys(env))
		if (k.startsWith("AGENTD_")) delete env[k];
	const proc = spawn(BIN, ["serve", "--host", "127.0.0.1", "--port",
	    String(port), "--data-dir", dataDir, "--token", TOKEN],
	    { env, stdio: ["ignore", "ignore", "pipe"] });
	let stderr = "";
	proc.stderr.on("data", (d) => { stderr += d; });
	process.on("exit", () => proc.kill("SIGKILL"));	/* never outlive us */
	const base = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 500; i++) {
		try {
			if ((await fetch(base + "/v1/health")).ok)
				return { proc, base, dataDir, stderr: () => stderr };
		} catch { /* not up yet */ }
		if (proc.exitCode !== null)
			break;
		await sleep(10);
	}
	proc.kill("SIGKILL");
	throw new Error(`agentd did not start: ${stderr}`);
}

function call(method, path, body, headers = {}) {
	const h = { Authorization: `Bearer ${TOKEN}`, ...headers };
	const init = { method, headers: h };
	if (body !== undefined) {
		h["Content-Type"] = "application/json";
		init.body = typeof body === "string" ? body : JSON.stringify(body);
	}
	return fetch(server.base + path, init);
}

async function json(method, path, body) {
	const r = await call(method, path, body);
	const text = await r.text();
	return { status: r.status, type: r.headers.get("content-type"),
	    body: text ? JSON.parse(text) : null };
}

before(async () => { server = await startAgentd(); });
after(() => {
	if (server) {
		server.proc.kill("SIGKILL");
		rmSync(server.dataDir, { recursive: true, force: true });
	}
});

// ---------------------------------------------------------------------
// The document itself

test("docs/openapi.json is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)",
    async () => {
	const v = new Validator();
	const res = await v.validate(structuredClone(DOC));
	assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
	assert.equal(v.version, "3.1");
	assert.match(DOC.openapi, /^3\.1\./);
	// Every $ref resolves.
	assert.doesNotThrow(() => v.resolveRefs());
});

test("every component schema compiles as JSON Schema 2020-12 (ajv)", () => {
	const ajv = newAjv();
	for (const name of Object.keys(DOC.components.schemas))
		assert.ok(ajv.getSchema(`openapi.json#/components/schemas/${name}`),
		    name);
});

test("operationIds are unique and every operation answers 401 unless public",
    () => {
	const ids = new Set();
	for (const [path, item] of Object.entries(DOC.paths)) {
		for (const m of METHODS) {
			const op = item[m];
			if (!op)
				continue;
			assert.ok(op.operationId, `${m} ${path}: no operationId`);
			assert.ok(!ids.has(op.operationId), op.operationId);
			ids.add(op.operationId);
			const open = Array.isArray(op.security) &&
			    op.security.length === 0;
			assert.equal("401" in op.responses, !open,
			    `${m} ${path}: 401 listed iff the route needs the token`);
		}
	}
});

test("GET /v1/openapi.json serves docs/openapi.json", async () => {
	const r = await call("GET", "/v1/openapi.json");
	assert.equal(r.status, 200);
	assert.match(r.headers.get("content-type"), /^application\/json/);
	assert.ok(await r.text() === DOC_TEXT,
	    "the binary embeds another docs/openapi.json: rebuild it");
	const noauth = await fetch(server.base + "/v1/openapi.json");
	assert.equal(noauth.status, 401);
});

// ---------------------------------------------------------------------
// Documented routes == the server's routes

// "/v1/sessions/{id}/permissions/{pid}/reply" -> "/v1/sessions/*/permissions/*/reply"
const pattern = (path) => path.replace(/\{[^}]+\}/g, "*");

function documentedRoutes() {
	const routes = [];
	for (const [path, item] of Object.entries(DOC.paths))
		for (const m of METHODS)
			if (item[m])
				routes.push(`${m.toUpperCase()} ${pattern(path)}`);
	return routes.sort();
}

// The api_routes[] table of supervisor/http/api.c: { HTTP_GET, "/v1/…", fn },
function sourceRoutes() {
	const src = readFileSync(join(TOP, "supervisor/http/api.c"), "utf8");
	const table = src.match(/api_routes\[\]\s*=\s*\{([\s\S]*?)\n\};/);
	assert.ok(table, "api_routes[] not found in supervisor/http/api.c");
	const routes = [];
	for (const m of table[1].matchAll(/\{\s*HTTP_([A-Z]+),\s*"([^"]+)"/g))
		routes.push(`${m[1]} ${m[2]}`);
	assert.ok(routes.length > 10, "too few routes parsed from api.c");
	return routes.sort();
}

// Only /v1/ is the API; other prefixes (the inspector's /ui/ files) are
// static content outside this document.
const isApi = (route) => route.split(" ")[1].startsWith("/v1/");

test("every route of supervisor/http/api.c is documented", () => {
	const doc = new Set(documentedRoutes());
	const missing = sourceRoutes().filter(isApi).filter((r) => !doc.has(r));
	assert.deepEqual(missing, [], "routes missing from docs/openapi.json");
});

test("every documented route is in supervisor/http/api.c", () => {
	const src = new Set(sourceRoutes());
	const extra = documentedRoutes().filter((r) => !src.has(r));
	assert.deepEqual(extra, [], "documented routes that api.c lacks");
});

// A value for each path parameter: nothing that exists, except the agent
// (mock: it cannot be installed from npm, so install answers 400 at once).
const PROBE_VALUES = { id: "probe-none", agent: "mock", pid: "perm_0",
    qid: "q_0" };

test("every documented route is answered by the real server, with a documented status",
    async () => {
	// Sanity: an unknown route is told apart.
	const unknown = await json("GET", "/v1/no-such-route");
	assert.equal(unknown.status, 404);
	assert.match(unknown.body.detail, /^no route for /);

	for (const [path, item] of Object.entries(DOC.paths)) {
		const real = path.replace(/\{([^}]+)\}/g,
		    (_, name) => PROBE_VALUES[name] ?? "x");
		for (const m of METHODS) {
			const op = item[m];
			if (!op)
				continue;
			const body = op.requestBody ? {} : undefined;
			const r = await call(m.toUpperCase(), real, body);
			const text = await r.text();
			const what = `${m.toUpperCase()} ${real} -> ${r.status} ${text}`;
			assert.notEqual(r.status, 405, what);
			if (r.status === 404)
				assert.doesNotMatch(JSON.parse(text).detail,
				    /^no route for /, what);
			assert.ok(String(r.status) in op.responses,
			    `${what}: status not in the document`);
			if (r.status >= 400) {
				assert.match(r.headers.get("content-type"),
				    /^application\/problem\+json/, what);
				validate("Problem", JSON.parse(text));
			}
		}
	}
});

// ---------------------------------------------------------------------
// Schemas against real answers and events

let ajvInstance;
function newAjv() {
	// discriminator and the x- members are annotations here; strict off
	// so that ajv ignores them (it rejects discriminator "mapping").
	const ajv = new Ajv2020({ strict: false, allErrors: true });
	ajv.addSchema(DOC, "openapi.json");
	return ajv;
}

function validate(name, value) {
	ajvInstance ??= newAjv();
	const v = ajvInstance.getSchema(`openapi.json#/components/schemas/${name}`);
	assert.ok(v, `no schema ${name}`);
	const ok = v(value);
	assert.ok(ok, `${name}: ${ajvInstance.errorsText(v.errors)}\n` +
	    JSON.stringify(value).slice(0, 2000));
}

async function waitFor(fn, what, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

async function events(id, raw = false) {
	const r = await json("GET", `/v1/sessions/${id}/events?limit=10000` +
	    (raw ? "&include_raw=true" : ""));
	assert.equal(r.status, 200);
	validate("EventsPage", r.body);
	return r.body.events;
}

async function untilEvent(id, pred, what) {
	return waitFor(async () => (await events(id)).find(pred), what);
}

test("answers of the JSON routes match their schemas", async () => {
	validate("Health", (await json("GET", "/v1/health")).body);
	validate("AgentList", (await json("GET", "/v1/agents")).body);
	validate("AgentInfo", (await json("GET", "/v1/agents/mock")).body);
	const c = await json("POST", "/v1/sessions/schemas",
	    { agent: "mock", env: { A: "1" } });
	assert.equal(c.status, 200);
	validate("SessionCreated", c.body);
	validate("SessionInfo", (await json("GET", "/v1/sessions/schemas")).body);
	validate("SessionList", (await json("GET", "/v1/sessions")).body);
	const dup = await json("POST", "/v1/sessions/schemas", { agent: "mock" });
	assert.equal(dup.status, 409);
	validate("Problem", dup.body);
	assert.equal((await call("DELETE", "/v1/sessions/schemas")).status, 204);
});

test("every event of a mock session validates against UniversalEvent",
    async () => {
	const id = "events";
	assert.equal((await json("POST", `/v1/sessions/${id}`,
	    { agent: "mock" })).status, 200);
	const post = async (message) => assert.equal((await call("POST",
	    `/v1/sessions/${id}/messages`, { message })).status, 204);
	const turns = async (n) => untilEvent(id, (e) =>
	    e.type === "turn.ended" && e.data.turn_id === `turn_${n}`,
	    `turn_${n} to end`);

	await post("hello tool");
	await turns(1);
	await post("permission please");
	const perm = await untilEvent(id,
	    (e) => e.type === "permission.requested", "a permission");
	assert.equal((await call("POST", `/v1/sessions/${id}/permissions/` +
	    `${perm.data.permission_id}/reply`, { reply: "once" })).status, 204);
	await turns(2);
	await post("question");
	const q = await untilEvent(id, (e) => e.type === "question.requested",
	    "a question");
	assert.equal((await call("POST", `/v1/sessions/${id}/questions/` +
	    `${q.data.question_id}/reply`, { answers: [["Red"]] })).status, 204);
	await turns(3);
	await post("error");
	await turns(4);
	await post("crash");
	await untilEvent(id, (e) => e.type === "session.ended", "the crash");

	const all = await events(id, true);
	const types = new Set();
	for (const e of all) {
		validate("UniversalEvent", e);
		types.add(e.type);
	}
	for (const t of ["session.started", "session.ended", "turn.started",
	    "turn.ended", "item.started", "item.completed", "item.delta",
	    "permission.requested", "permission.resolved", "question.requested",
	    "question.resolved", "error"])
		assert.ok(types.has(t), `no ${t} event in the mock session`);
	const kinds = new Set(all.filter((e) => e.type === "item.completed")
	    .flatMap((e) => e.data.item.content.map((p) => p.type)));
	for (const k of ["text", "tool_call", "tool_result", "file_ref"])
		assert.ok(kinds.has(k), `no ${k} content part`);
	assert.ok(all.some((e) => "raw" in e), "include_raw=true gave no raw");
});

test("UniversalEvent rejects what protocol/event.c rejects", () => {
	ajvInstance ??= newAjv();
	const v = ajvInstance.getSchema(
	    "openapi.json#/components/schemas/UniversalEvent");
	const good = { event_id: "evt_3", sequence: 3,
	    time: "2026-11-22T12:00:00.123Z", session_id: "s", source: "agent",
	    synthetic: false, type: "item.completed", data: { item: {
	    item_id: "itm_1", native_item_id: null, kind: "message",
	    role: "assistant", status: "completed",
	    content: [{ type: "text", text: "hi" }] } } };
	assert.ok(v(good), ajvInstance.errorsText(v.errors));
	const bad = (f) => { const e = structuredClone(good); f(e); return e; };
	for (const [why, e] of [
	    ["in_progress in item.completed", bad((e) => { e.data.item.status = "in_progress"; })],
	    ["unknown type", bad((e) => { e.type = "item.exploded"; })],
	    ["sequence 0", bad((e) => { e.sequence = 0; e.event_id = "evt_0"; })],
	    ["time without ms", bad((e) => { e.time = "2026-11-22T12:00:00Z"; })],
	    ["unknown part", bad((e) => { e.data.item.content[0].type = "video"; })],
	    ["tool_call without call_id", bad((e) => { e.data.item.content = [{ type: "tool_call", name: "x", arguments: "{}" }]; })],
	    ["bad source", bad((e) => { e.source = "user"; })],
	    ["missing data", bad((e) => { delete e.data; })]])
		assert.equal(v(e), false, why);
});

test("answers of the file and process routes match their schemas",
    async () => {
	const dir = join(server.dataDir, "fs-schemas");
	const q = (p) => `path=${encodeURIComponent(join(dir, p))}`;
	const put = await call("PUT", `/v1/fs/file?${q("a/b.txt")}`, undefined,
	    { "Content-Type": "application/octet-stream" });
	assert.equal(put.status, 200);
	const w = await fetch(server.base + `/v1/fs/file?${q("a/b.txt")}`, {
		method: "PUT", body: "hello",
		headers: { Authorization: `Bearer ${TOKEN}`,
		    "Content-Type": "application/octet-stream" } });
	validate("FsWriteResponse", await w.json());
	validate("FsStat", (await json("GET", `/v1/fs/stat?${q("a/b.txt")}`)).body);
	validate("FsEntryList", (await json("GET", `/v1/fs/entries?${q("a")}`)).body);
	validate("FsActionResponse",
	    (await json("POST", `/v1/fs/mkdir?${q("c/d")}`)).body);
	validate("FsMoveResponse", (await json("POST", "/v1/fs/move",
	    { from: join(dir, "a/b.txt"), to: join(dir, "c/d/e.txt") })).body);
	validate("FsActionResponse", (await json("DELETE",
	    `/v1/fs/entry?${q("c")}&recursive=true`)).body);

	validate("ProcessConfig", (await json("GET", "/v1/processes/config")).body);
	const run = await json("POST", "/v1/processes/run",
	    { command: "sh", args: ["-c", "echo hi; exit 2"] });
	validate("ProcessRunResponse", run.body);
	const p = await json("POST", "/v1/processes",
	    { command: "sh", args: ["-c", "echo out; echo err >&2; sleep 30"],
	    cwd: server.dataDir });
	assert.equal(p.status, 200);
	validate("ProcessInfo", p.body);
	validate("ProcessList", (await json("GET", "/v1/processes")).body);
	await waitFor(async () => (await json("GET",
	    `/v1/processes/${p.body.id}/logs`)).body.entries.length === 2,
	    "two log entries");
	const logs = await json("GET", `/v1/processes/${p.body.id}/logs`);
	validate("ProcessLogsResponse", logs.body);
	validate("ProcessInputResponse", (await json("POST",
	    `/v1/processes/${p.body.id}/input`, { data: "eA==" })).body);
	const stopped = await json("POST",
	    `/v1/processes/${p.body.id}/stop?waitMs=5000`);
	validate("ProcessInfo", stopped.body);
	assert.equal(stopped.body.status, "exited");
	assert.equal((await call("DELETE", `/v1/processes/${p.body.id}`)).status,
	    204);
});
