/* holds_list.c: the control plane's intercept list (see holds_list.h). */
#include "holds_list.h"

#include <stdlib.h>
#include <string.h>

#include "ps_wire.h"

void ps_hold_list_init(struct ps_hold_list *l)
{
	memset(l, 0, sizeof(*l));
}

void ps_hold_list_free(struct ps_hold_list *l)
{
	free(l->e);
	free(l->arena);
	ps_hold_list_init(l);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * size);
	if (!n)
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

/* The note's arena offset (0: none); (uint32_t)-1 when out of memory. */
static uint32_t put_note(struct ps_hold_list *l, const char *note, size_t len)
{
	if (!note || !len)
		return 0;
	if (!l->arena_len) {
		if (grow((void **)&l->arena, &l->arena_cap, 1, 1))
			return (uint32_t)-1;
		l->arena[0] = 0;
		l->arena_len = 1;
	}
	if (l->arena_len + len + 1 > UINT32_MAX ||
	    grow((void **)&l->arena, &l->arena_cap, l->arena_len + len + 1, 1))
		return (uint32_t)-1;
	uint32_t off = (uint32_t)l->arena_len;
	memcpy(l->arena + off, note, len);
	l->arena[off + len] = 0;
	l->arena_len += len + 1;
	return off;
}

void ps_hold_list_append(struct ps_hold_list *l, const uint8_t *wb,
			 const char *note, size_t note_len)
{
	if (l->oom || grow((void **)&l->e, &l->cap, l->n + 1, sizeof(*l->e))) {
		l->oom = 1;
		return;
	}
	uint32_t off = put_note(l, note, note_len);
	if (off == (uint32_t)-1) {
		l->oom = 1;
		return;
	}
	memcpy(l->e[l->n].wb, wb, PS_HOLD_WAYBILL);
	l->e[l->n].note = off;
	l->n++;
}

const char *ps_hold_note(const struct ps_hold_list *l, size_t i)
{
	return l->e[i].note ? l->arena + l->e[i].note : "";
}

static int cmp_wb(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, PS_HOLD_WAYBILL);
}

/* Stable bottom-up merge sort: of equal waybills the earlier stays
 * earlier, so the one appended last ends its run. */
static int stable_sort(struct ps_hold_ent *a, size_t n)
{
	struct ps_hold_ent *tmp = malloc((n ? n : 1) * sizeof(*a));
	if (!tmp)
		return -1;
	struct ps_hold_ent *src = a, *dst = tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = cmp_wb(src[j].wb, src[i].wb) < 0
						   ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		struct ps_hold_ent *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(tmp);
	return 0;
}

void ps_hold_list_sort(struct ps_hold_list *l)
{
	if (stable_sort(l->e, l->n)) {
		l->oom = 1;
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (i + 1 < l->n && !cmp_wb(l->e[i].wb, l->e[i + 1].wb))
			continue;          /* a later line repeats it */
		l->e[k++] = l->e[i];
	}
	l->n = k;
}

size_t ps_hold_list_after(const struct ps_hold_list *l, const uint8_t *wb)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_wb(l->e[mid].wb, wb) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long ps_hold_list_find(const struct ps_hold_list *l, const uint8_t *wb)
{
	size_t i = ps_hold_list_after(l, wb);
	return i && !cmp_wb(l->e[i - 1].wb, wb) ? (long)(i - 1) : -1;
}

static void copy_ent(struct ps_hold_list *out, const struct ps_hold_list *from,
		     size_t i)
{
	const char *note = ps_hold_note(from, i);
	ps_hold_list_append(out, from->e[i].wb, note, strlen(note));
}

int ps_hold_list_merge(struct ps_hold_list *out, const struct ps_hold_list *old,
		       const struct ps_hold_list *add,
		       const struct ps_hold_list *del)
{
	size_t i = 0, j = 0, d = 0;
	ps_hold_list_init(out);
	while (i < old->n || (add && j < add->n)) {
		const struct ps_hold_list *from;
		size_t k;
		if (!add || j == add->n ||
		    (i < old->n && cmp_wb(old->e[i].wb, add->e[j].wb) < 0)) {
			from = old;
			k = i++;
		} else {
			if (i < old->n && !cmp_wb(old->e[i].wb, add->e[j].wb))
				i++;       /* replaced by the added one */
			from = add;
			k = j++;
		}
		while (del && d < del->n && cmp_wb(del->e[d].wb, from->e[k].wb) < 0)
			d++;
		if (del && d < del->n && !cmp_wb(del->e[d].wb, from->e[k].wb))
			continue;
		copy_ent(out, from, k);
	}
	if (out->oom) {
		ps_hold_list_free(out);
		return -1;
	}
	return 0;
}

int ps_hold_waybill(const char *s, size_t len, uint8_t wb[PS_HOLD_WAYBILL],
		    const char **why)
{
	static const char *const reasons[] = {
		[PS_WB_EMPTY] = "no waybill",
		[PS_WB_LENGTH] = "waybill shorter than 8 characters",
		[PS_WB_CHARSET] = "waybill character outside 0-9 A-Z and '-'",
		[PS_WB_PADDING] = "waybill holds a NUL",
		[PS_WB_S10] = "UPU S10 waybill with a wrong check digit",
	};
	memset(wb, 0, PS_HOLD_WAYBILL);
	if (len > PS_HOLD_WAYBILL) {
		*why = "waybill longer than 24 characters";
		return -1;
	}
	memcpy(wb, s, len);
	uint8_t n;
	enum ps_waybill_status st = ps_waybill_check(wb, &n);
	if (st == PS_WB_VALID)
		return 0;
	*why = (unsigned)st < sizeof(reasons) / sizeof(reasons[0]) && reasons[st]
		       ? reasons[st] : "invalid waybill";
	return -1;
}

int ps_hold_note_ok(const char *s, size_t len)
{
	if (len > PS_HOLD_NOTE_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -1;
	return 0;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line (without its newline): appended, skipped, or an error. */
static void parse_line(struct ps_hold_list *l, const char *p, size_t n,
		       const char *name, uint32_t line, struct ps_errors *errs)
{
	while (n && blank(*p)) {
		p++;
		n--;
	}
	while (n && blank(p[n - 1]))
		n--;
	if (!n || *p == '#')
		return;
	const char *comma = memchr(p, ',', n);
	size_t wl = comma ? (size_t)(comma - p) : n;
	while (wl && blank(p[wl - 1]))
		wl--;
	uint8_t wb[PS_HOLD_WAYBILL];
	const char *why;
	if (ps_hold_waybill(p, wl, wb, &why)) {
		ps_errors_add(errs, name, line, "%s", why);
		return;
	}
	const char *note = comma ? comma + 1 : NULL;
	size_t nl = comma ? (size_t)(p + n - note) : 0;
	while (nl && blank(*note)) {
		note++;
		nl--;
	}
	if (note && ps_hold_note_ok(note, nl)) {
		ps_errors_add(errs, name, line, "note longer than %u characters "
			      "or not printable ASCII", PS_HOLD_NOTE_MAX);
		return;
	}
	if (l->n >= PS_HOLDS_MAX) {
		ps_errors_add(errs, name, line, "more than %u holds",
			      PS_HOLDS_MAX);
		return;
	}
	ps_hold_list_append(l, wb, note, nl);
}

size_t ps_hold_parse(struct ps_hold_list *l, const char *text, size_t len,
		     const char *name, uint32_t first_line,
		     struct ps_errors *errs)
{
	size_t lines = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (memchr(p, 0, n))
			ps_errors_add(errs, name, first_line + (uint32_t)lines,
				      "a NUL byte in the line");
		else
			parse_line(l, p, n, name, first_line + (uint32_t)lines,
				   errs);
		lines++;
		p += n + (nl != NULL);
	}
	if (l->oom)
		ps_errors_add(errs, name, 0, "out of memory");
	return lines;
}

int ps_hold_list_write(const struct ps_hold_list *l, FILE *f)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *note = ps_hold_note(l, i);
		if (fprintf(f, *note ? "%.24s,%s\n" : "%.24s\n",
			    (const char *)l->e[i].wb, note) < 0)
			return -1;
	}
	return 0;
}
