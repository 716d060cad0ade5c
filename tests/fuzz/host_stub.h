/* host_stub.h: what a fuzz harness uses of host_stub.c. */
#ifndef HOST_STUB_H
#define HOST_STUB_H

struct session *stub_session_new(const struct agent_profile *, cJSON *);
void		stub_session_free(struct session *);
void		stub_session_line(struct session *, const char *, size_t);
const char     *stub_session_pending(struct session *, int);
void		stub_session_resolved(struct session *, const char *);
int		stub_session_in_turn(struct session *);
size_t		stub_session_sent(struct session *);

#endif
