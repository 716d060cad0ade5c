/*
 * host_stub.h: what a fuzz harness uses of host_stub.c: a real host
 * (supervisor/host/host.c) over a checking journal and session callbacks.
 */
#ifndef HOST_STUB_H
#define HOST_STUB_H

struct stub;

struct stub *stub_new(const struct agent_profile *);
struct host *stub_host(struct stub *);
size_t	     stub_sent(struct stub *);
const char  *stub_log(struct stub *, size_t *);
void	     stub_line(struct stub *, const char *, size_t);
void	     stub_free(struct stub *);
char	    *stub_run(const struct agent_profile *, const uint8_t *, size_t,
	   void (*)(void *, const char *, size_t), void *, size_t *);
void	     stub_same(char *, size_t, char *, size_t);

#endif
