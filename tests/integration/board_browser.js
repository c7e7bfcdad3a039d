// board_browser.js: the sorter board in a real browser (board_browser.sh):
// Debian's chromium, headless, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe; nothing downloaded). It loads the board from a
// live daemon, reads the rendered DOM and checks it against parcelsortctl;
// disables a chute and waits for its tile; records every request the page
// makes; takes screenshots. Prints "ok - ..." / "not ok - ..." lines.
// Usage: node board_browser.js URL CTL_BIN CTL_SOCK OUT_DIR
"use strict";
const { spawn, execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const [url, ctlBin, ctlSock, outDir] = process.argv.slice(2);
const origin = new URL(url).origin;

function ctl(...args) {
	return JSON.parse(execFileSync(ctlBin, ["--ctl", ctlSock, "--json", ...args]));
}

function check(name, ok, detail) {
	console.log((ok ? "ok - " : "not ok - ") + name +
		    (!ok && detail !== undefined ? " (" + detail + ")" : ""));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const profile = fs.mkdtempSync("/tmp/ps-chromium-");
const chrome = spawn("/usr/bin/chromium", [
	"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
	"--disable-extensions", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--disable-default-apps",
	"--user-data-dir=" + profile, "--remote-debugging-pipe",
	"--window-size=1600,1500", "about:blank"],
	// its own process group: its helper processes (renderer, crashpad)
	// are killed with it before the profile is removed; its temporary
	// files (org.chromium.Chromium.*) go in the profile, removed with it
	{ stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"],
	  env: Object.assign({}, process.env, { TMPDIR: profile }),
	  detached: true });
const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];

let nextId = 1, inbuf = Buffer.alloc(0);
const waiting = new Map(), listeners = [];
fromChrome.on("data", (d) => {
	inbuf = Buffer.concat([inbuf, d]);
	let z;
	while ((z = inbuf.indexOf(0)) >= 0) {
		const msg = JSON.parse(inbuf.subarray(0, z).toString());
		inbuf = inbuf.subarray(z + 1);
		if (msg.id && waiting.has(msg.id)) {
			const [ok, bad] = waiting.get(msg.id);
			waiting.delete(msg.id);
			msg.error ? bad(new Error(JSON.stringify(msg.error))) : ok(msg.result);
		} else if (msg.method) {
			for (const l of listeners)
				l(msg);
		}
	}
});

function send(method, params = {}, sessionId) {
	const id = nextId++;
	const m = { id, method, params };
	if (sessionId)
		m.sessionId = sessionId;
	toChrome.write(JSON.stringify(m) + "\0");
	return new Promise((ok, bad) => waiting.set(id, [ok, bad]));
}

async function main() {
	const requests = [], problems = [];
	listeners.push((m) => {
		if (m.method === "Network.requestWillBeSent")
			requests.push(m.params.request.url);
		if (m.method === "Runtime.exceptionThrown")
			problems.push(m.params.exceptionDetails.text);
		if (m.method === "Log.entryAdded" &&
		    ["error", "warning"].includes(m.params.entry.level))
			problems.push(m.params.entry.text);
	});
	const { targetId } = await send("Target.createTarget", { url: "about:blank" });
	const { sessionId: s } = await send("Target.attachToTarget",
					     { targetId, flatten: true });
	await send("Network.enable", {}, s);
	await send("Log.enable", {}, s);
	await send("Runtime.enable", {}, s);
	await send("Page.enable", {}, s);
	await send("Page.navigate", { url }, s);
	const js = async (expr) => (await send("Runtime.evaluate",
		{ expression: expr, returnByValue: true }, s)).result.value;
	const refreshes = () => js("Number(document.body && document.body.dataset.refreshes || 0)");

	for (let i = 0; i < 100 && (await refreshes()) < 3; i++)
		await sleep(100);
	check("the board loaded and refreshed three times", (await refreshes()) >= 3);

	// while traffic flows: what it shows lies between the stats read one
	// refresh before and the stats read after
	const before = ctl("stats");
	const r0 = await refreshes();
	for (let i = 0; i < 60 && (await refreshes()) < r0 + 2; i++)
		await sleep(50);
	const shown = await js("Number(document.getElementById('records').dataset.value)");
	const after = ctl("stats");
	check("records shown (" + shown + ") within one refresh of `stats` (" +
	      before.records + ".." + after.records + ")",
	      before.records <= shown && shown <= after.records && after.records > 0);

	// the chutes: one tile each, as the chute list has them
	const list = ctl("chute", "list");
	const tiles = await js("[...document.querySelectorAll('.chute')].map(t => [Number(t.dataset.chute), t.dataset.state])");
	check("a tile for every chute of `chute list` (" + tiles.length + ")",
	      tiles.length === list.length &&
	      list.every((c, i) => tiles[i][0] === c.chute));
	const st = (c) => !c.enabled ? "disabled" : c.sorter.toLowerCase();
	const states = new Map(tiles);
	check("tiles marked as the chute list's states",
	      list.filter((c) => c.sorter === "OPEN" && c.enabled)
		  .every((c) => states.get(c.chute) === st(c)));

	// a chute disabled with parcelsortctl shows within two seconds
	const victim = list.find((c) => c.enabled && c.in_plan && !c.reject);
	execFileSync(ctlBin, ["--ctl", ctlSock, "chute", "disable", String(victim.chute)]);
	const t0 = Date.now();
	let seen = -1;
	while (Date.now() - t0 < 3000) {
		const v = await js("(document.querySelector('.chute[data-chute=\"" +
				   victim.chute + "\"]') || {dataset: {}}).dataset.state");
		if (v === "disabled") {
			seen = Date.now() - t0;
			break;
		}
		await sleep(50);
	}
	check("chute " + victim.chute + " disabled with parcelsortctl shows disabled in " +
	      seen + " ms (<= 2000)", seen >= 0 && seen <= 2000);
	const alarm = await js("[...document.querySelectorAll('#alarms li')].map(l => l.textContent).join('|')");
	check("the alarms name it", alarm.includes("chute " + victim.chute + " disabled"), alarm);
	await send("Page.captureScreenshot", { format: "png" }, s).then((r) =>
		fs.writeFileSync(path.join(outDir, "board.png"), Buffer.from(r.data, "base64")));
	execFileSync(ctlBin, ["--ctl", ctlSock, "chute", "enable", String(victim.chute)]);

	// once traffic has stopped: every figure equal to `stats`
	await fs.promises.writeFile(path.join(outDir, "stop-traffic"), "");
	for (let i = 0; i < 100 && !fs.existsSync(path.join(outDir, "traffic-stopped")); i++)
		await sleep(100);
	await sleep(2200);
	const quiet = ctl("stats");
	const reasons = await js("Object.fromEntries([...document.querySelectorAll('#reasons tr')].map(r => [r.dataset.reason, Number(r.dataset.value)]))");
	const shownRecords = await js("Number(document.getElementById('records').dataset.value)");
	check("at rest: records and every reason equal to `stats` (" + shownRecords + ")",
	      shownRecords === quiet.records &&
	      JSON.stringify(reasons) === JSON.stringify(quiet.reasons),
	      JSON.stringify([reasons, quiet.reasons]));
	const status = ctl("status");
	const ver = await js("document.getElementById('plan-version').dataset.value");
	check("the active plan's version shown (v" + ver + ")",
	      Number(ver) === status.plan.version);
	const dev = ctl("device", "list", "--sort", "noread", "--limit", "50");
	const rows = await js("[...document.querySelectorAll('#scanners tbody tr')].map(r => Number(r.dataset.device))");
	check("scanners ranked as `device list --sort noread`",
	      JSON.stringify(rows) === JSON.stringify(dev.devices.map((d) => d.device)),
	      JSON.stringify(rows));
	const points = await js("Number(document.getElementById('chart').dataset.points)");
	check("the chart has a point a second (" + points + ")", points >= 5);

	// a phone: one column, nothing wider than the screen
	await send("Emulation.setDeviceMetricsOverride",
		   { width: 390, height: 844, deviceScaleFactor: 2, mobile: true }, s);
	await sleep(1200);
	const wide = await js("document.documentElement.scrollWidth");
	check("on a phone (390 px) nothing is wider than the screen (" + wide + ")",
	      wide <= 390);
	await send("Page.captureScreenshot", { format: "png" }, s).then((r) =>
		fs.writeFileSync(path.join(outDir, "board-phone.png"), Buffer.from(r.data, "base64")));

	const outside = requests.filter((u) => !u.startsWith(origin + "/"));
	check("the page made " + requests.length + " requests, none outside the listener",
	      requests.length > 10 && outside.length === 0, outside.join(" "));
	check("no script error or CSP violation", problems.length === 0, problems.join(" | "));
}

main().catch((e) => {
	console.log("not ok - board_browser: " + e.stack);
}).finally(async () => {
	try {
		await Promise.race([send("Browser.close"), sleep(2000)]);
	} catch (e) { /* gone already */ }
	const gone = new Promise((r) => chrome.once("exit", r));
	if (chrome.exitCode === null && chrome.signalCode === null)
		chrome.kill("SIGKILL");
	await Promise.race([gone, sleep(5000)]);
	// a helper still writing in the profile made its removal fail
	// (ENOTEMPTY) once: the whole group goes first
	try {
		process.kill(-chrome.pid, "SIGKILL");
	} catch (e) { /* the group is gone */ }
	await sleep(200);
	try {
		fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10,
				     retryDelay: 200 });
	} catch (e) {
		console.log("not ok - the browser profile removed: " + e.message);
	}
	process.exit(0);
});
