// Start and stop a real `agentd serve` for the client tests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TOKEN = "client-test-token";
const TOP = new URL("../../../", import.meta.url).pathname;
const BIN = process.env.AGENTD_BIN ?? join(TOP, "build/agentd");

// Whatever happens to the test process, no agentd outlives it.
const live = new Set();
process.on("exit", () => { for (const p of live) p.kill("SIGKILL"); });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.on("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// One agentd on a fixed port and data dir, which can be killed and
// started again (same port, same sessions).
export class Agentd {
	// args: more `agentd serve` flags (--cors-origin O, --max-body N).
	static async start(args = []) {
		const a = new Agentd(await freePort(),
		    mkdtempSync(join(tmpdir(), "agentd-client-")), args);
		await a.up();
		return a;
	}

	constructor(port, dataDir, args = []) {
		this.port = port;
		this.dataDir = dataDir;
		this.args = args;
		this.base = `http://127.0.0.1:${port}`;
		this.stderr = "";
	}

	async up() {
		const env = { ...process.env };
		for (const k of Object.keys(env))
			if (k.startsWith("AGENTD_"))
				delete env[k];
		this.proc = spawn(BIN, ["serve", "--host", "127.0.0.1",
		    "--port", String(this.port), "--data-dir", this.dataDir,
		    "--token", TOKEN, ...this.args], { env, stdio: ["ignore", "ignore", "pipe"] });
		const proc = this.proc;
		live.add(proc);
		proc.stderr.on("data", (d) => { this.stderr += d; });
		this.exited = new Promise((r) => proc.on("exit", () => {
			live.delete(proc);
			r();
		}));
		for (let i = 0; i < 1000; i++) {
			try {
				if ((await fetch(this.base + "/v1/health")).ok)
					return;
			} catch { /* not yet */ }
			if (this.proc.exitCode !== null)
				break;
			await sleep(10);
		}
		throw new Error(`agentd did not start:\n${this.stderr}`);
	}

	async kill() {
		this.proc.kill("SIGKILL");
		await this.exited;
	}

	async stop() {
		if (this.proc.exitCode === null && this.proc.signalCode === null) {
			this.proc.kill("SIGTERM");
			await Promise.race([this.exited, sleep(3000)]);
			this.proc.kill("SIGKILL");
		}
		rmSync(this.dataDir, { recursive: true, force: true });
	}
}
