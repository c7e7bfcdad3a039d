/* board.js: the sorter board's script: once a second it reads the
 * daemon's read-only JSON API (same origin: /api/v1/summary, /chutes,
 * /scanners, /rate) and draws the figures, the chart, the chute tiles,
 * the scanners and the alarms. It only ever sends GET requests. */
"use strict";

/* Reasons that are exceptions: a parcel not sorted as planned. */
const EXCEPTIONS = ["NO_ROUTE", "NOREAD", "BAD_BARCODE", "MALFORMED_RECORD",
	"CHUTE_UNAVAILABLE", "NO_PLAN", "RECIRC_LIMIT"];
const NOREAD_ALARM_PERCENT = 2;
const NOREAD_ALARM_MIN_RECORDS = 100;
const $ = (id) => document.getElementById(id);
let last = null;          /* the previous summary, for rising counters */
let updated = 0;

function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls)
		e.className = cls;
	if (text !== undefined)
		e.textContent = text;
	return e;
}

function fmt(n) {
	return Math.round(n).toLocaleString("en-US");
}

function setFigure(id, value, text) {
	const e = $(id);
	e.dataset.value = String(value);
	e.textContent = text;
}

async function getJSON(path) {
	const r = await fetch(path, { cache: "no-store" });
	if (r.status === 503)
		throw new Error("busy: a control command is running");
	if (!r.ok)
		throw new Error(path + ": " + r.status);
	return r.json();
}

function ago(ms) {
	const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
	if (s < 120) return s + " s ago";
	if (s < 7200) return Math.round(s / 60) + " min ago";
	return Math.round(s / 3600) + " h ago";
}

function drawPlan(st) {
	const p = st.plan;
	$("plan-name").textContent = p ? p.name : "none";
	$("plan-version").dataset.value = p ? String(p.version) : "0";
	$("plan-version").textContent = p ? "v" + p.version : "no plan";
	$("plan-when").textContent = p ? "since " +
		new Date(p.committed_ms).toLocaleString() + " (" +
		ago(p.committed_ms) + ", from " + (p.origin || "?") + ")" : "";
}

function drawFigures(s) {
	let exc = 0;
	for (const r of EXCEPTIONS)
		exc += s.reasons[r] || 0;
	setFigure("rps", s.rates.records_per_s, fmt(s.rates.records_per_s));
	setFigure("records", s.records, fmt(s.records));
	setFigure("exceptions", exc, fmt(exc));
	setFigure("busy", s.busy_percent, s.busy_percent.toFixed(1) + " %");
}

function drawReasons(s) {
	const body = $("reasons").tBodies[0];
	const total = Math.max(1, s.records);
	body.replaceChildren();
	for (const [name, n] of Object.entries(s.reasons)) {
		const tr = el("tr", EXCEPTIONS.includes(name) ? "exc" : "");
		tr.dataset.reason = name;
		tr.dataset.value = String(n);
		tr.append(el("td", "", name), el("td", "", fmt(n)),
			  el("td", "", (100 * n / total).toFixed(2) + " %"));
		const bar = el("div", "bar");
		bar.style.width = Math.min(100, 100 * n / total) + "%";
		const td = el("td");
		td.append(bar);
		tr.append(td);
		body.append(tr);
	}
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs))
		e.setAttribute(k, v);
	return e;
}

/* records/s of the last 10 minutes (one point a second, newest right). */
function drawChart(rate) {
	const v = rate.records_per_s, W = 600, H = 160;
	const max = Math.max(10, ...v) * 1.1;
	const c = $("chart");
	c.replaceChildren();
	for (let g = 1; g < 4; g++)
		c.append(svg("line", { class: "grid", x1: 0, x2: W,
				       y1: H * g / 4, y2: H * g / 4 }));
	if (v.length) {
		const x0 = W - v.length;
		const pts = v.map((y, i) => (x0 + i) + "," +
				  (H - H * y / max).toFixed(1));
		c.append(svg("polygon", { class: "area", points: x0 + "," + H +
				" " + pts.join(" ") + " " + (W - 1) + "," + H }));
		c.append(svg("polyline", { class: "line", points: pts.join(" ") }));
	}
	c.dataset.points = String(v.length);
	$("chart-max").textContent = "max " + fmt(Math.max(0, ...v)) + "/s";
}

function chuteState(c) {
	if (!c.enabled) return "disabled";
	return c.sorter.toLowerCase();
}

function drawChutes(list) {
	const box = $("chutes");
	box.replaceChildren();
	for (const c of list) {
		const st = chuteState(c);
		const t = el("div", "chute " + st + (c.reject ? " reject" : ""));
		t.dataset.chute = String(c.chute);
		t.dataset.state = st;
		t.dataset.decided = String(c.decided);
		t.dataset.sorted = String(c.sorted);
		t.append(el("span", "st", st), el("div", "n", String(c.chute)),
			 el("div", "ph", fmt(c.per_hour) + " /h"),
			 el("div", "sd", "sorted " + fmt(c.sorted) + " / " +
			    fmt(c.decided)));
		box.append(t);
	}
	$("chute-count").textContent = "(" + list.length + ")";
}

function drawScanners(d) {
	const body = $("scanners").tBodies[0];
	body.replaceChildren();
	for (const s of d.devices) {
		const hot = s.records >= NOREAD_ALARM_MIN_RECORDS &&
			    s.noread_percent > NOREAD_ALARM_PERCENT;
		const tr = el("tr", hot ? "hot" : "");
		tr.dataset.device = String(s.device);
		tr.dataset.noread = String(s.noread_percent);
		tr.append(el("td", "", String(s.device)), el("td", "", fmt(s.records)),
			  el("td", "", fmt(s.noread)),
			  el("td", "", s.noread_percent.toFixed(2) + " %"),
			  el("td", "", s.bad_percent.toFixed(2) + " %"),
			  el("td", "", s.last_heard_s_ago === null ? "never"
				     : s.last_heard_s_ago + " s ago"));
		body.append(tr);
	}
}

function rising(now, prev, get) {
	return prev && get(now) > get(prev);
}

/* What needs someone: chutes out of service, scanners missing reads, the
 * NIC missing frames, export losing events, refused plan commits. */
function alarms(sum, chutes, scanners) {
	const a = [];
	const s = sum.stats, e = s.export;
	for (const c of chutes) {
		const st = chuteState(c);
		if (st !== "open")
			a.push([st === "full" ? "warn" : "bad",
				"chute " + c.chute + " " + st]);
	}
	for (const d of scanners.devices)
		if (d.records >= NOREAD_ALARM_MIN_RECORDS &&
		    d.noread_percent > NOREAD_ALARM_PERCENT)
			a.push(["warn", "scanner " + d.device + ": NOREAD " +
				d.noread_percent.toFixed(1) + " %"]);
	for (const n of sum.nic) {
		const p = last && last.nic.find((x) => x.port === n.port);
		if (p && n.rx_missed > p.rx_missed)
			a.push(["bad", "port " + n.port + " (" + n.name + "): NIC missed " +
				fmt(n.rx_missed - p.rx_missed) + " frames"]);
	}
	if (rising(sum, last, (x) => x.stats.export.dropped))
		a.push(["bad", "export dropping events"]);
	if (e.spool_overflow || e.spool_errors)
		a.push(["bad", "spool lost " + fmt(e.spool_overflow + e.spool_errors) +
			" events"]);
	if (sum.commits.refused)
		a.push(["warn", sum.commits.refused + " plan commit(s) refused"]);
	const sch = sum.status.scheduled;
	if (sch && sch.failed_attempts)
		a.push(["bad", "scheduled plan " + sch.name + ": " + sch.last_error]);
	if (!sum.status.plan)
		a.push(["bad", "no plan is active"]);
	const ul = $("alarms");
	ul.replaceChildren();
	for (const [cls, text] of a)
		ul.append(el("li", cls, text));
	if (!a.length)
		ul.append(el("li", "ok", "none"));
	ul.dataset.count = String(a.length);
}

async function refresh() {
	try {
		const [sum, chutes, scanners, rate] = await Promise.all([
			getJSON("/api/v1/summary"), getJSON("/api/v1/chutes"),
			getJSON("/api/v1/scanners"), getJSON("/api/v1/rate")]);
		drawPlan(sum.status);
		drawFigures(sum.stats);
		drawReasons(sum.stats);
		drawChart(rate);
		drawChutes(chutes);
		drawScanners(scanners);
		alarms(sum, chutes, scanners);
		last = sum;
		updated = Date.now();
		const live = $("live");
		live.className = "dim";
		live.textContent = "updated " + new Date(updated).toLocaleTimeString() +
			", up " + Math.round(sum.status.uptime_s / 60) + " min";
		document.body.dataset.refreshes =
			String(Number(document.body.dataset.refreshes || 0) + 1);
	} catch (err) {
		const live = $("live");
		live.className = "stale";
		live.textContent = "no answer from the daemon (" + err.message + ")";
	}
}

refresh();
setInterval(refresh, 1000);
