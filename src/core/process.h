/* Which process this is: a fork child is told apart from its parent. */
#ifndef WEFT_PROCESS_H
#define WEFT_PROCESS_H

#include <sys/types.h>

/* This process's id, renewed in a fork child. Cheap: checks for a fork run
 * on every call, and getpid() is a system call (about 0.5 us on some hosts). */
pid_t weft_process_id(void);

#endif
