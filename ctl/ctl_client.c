/* ctl_client.c: one control request and its response (see ctl_client.h). */
#include "ctl_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

void ps_ctl_arg(struct ps_out *body, const char *s, size_t n)
{
	ps_out_write(body, s, n);
	ps_out_write(body, "", 1);
	if (!body->oom)
		body->buf[body->len - 1] = 0;
}

void ps_ctl_args(struct ps_out *body, const char *s)
{
	ps_ctl_arg(body, s, strlen(s));
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "cannot reach parcelsortd at %s: %s",
			 path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int ps_ctl_call(const char *path, uint16_t cmd, uint32_t flags,
		const struct ps_out *body, struct ps_ctl_reply *rep,
		char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	if (body->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int fd = connect_to(path, err, errlen);
	if (fd < 0)
		return -1;
	struct ps_ctl_hdr h = { PS_CTL_REQ_MAGIC, PS_CTL_VERSION, cmd, flags,
				(uint32_t)body->len };
	uint8_t hb[16];
	ps_ctl_hdr_encode(hb, &h);
	if (write_all(fd, hb, 16) ||
	    (body->len && write_all(fd, body->buf, body->len)) ||
	    read_all(fd, hb, 16)) {
		snprintf(err, errlen, "parcelsortd at %s closed the connection",
			 path);
		close(fd);
		return -1;
	}
	ps_ctl_hdr_decode(hb, &h);
	char *b = h.magic == PS_CTL_RESP_MAGIC && h.len <= PS_CTL_MAX_REQUEST
		  ? malloc((size_t)h.len + 1) : NULL;
	if (!b || (h.len && read_all(fd, b, h.len))) {
		snprintf(err, errlen, "bad answer from %s", path);
		free(b);
		close(fd);
		return -1;
	}
	close(fd);
	b[h.len] = 0;
	rep->status = h.code;
	rep->body = b;
	rep->len = h.len;
	return 0;
}

void ps_ctl_reply_free(struct ps_ctl_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
}
