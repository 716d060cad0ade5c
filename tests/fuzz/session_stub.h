/* session_stub.h: what a fuzz harness uses of session_stub.c. */
#ifndef SESSION_STUB_H
#define SESSION_STUB_H

void stub_sessions_reset(void);

#endif
