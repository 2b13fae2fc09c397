#define _GNU_SOURCE
#include "CQuarryLinux.h"
#include <sys/socket.h>

_Static_assert(sizeof(struct ucred) == sizeof(cq_ucred), "cq_ucred must mirror struct ucred");

int cq_sol_socket(void) { return SOL_SOCKET; }
int cq_so_peercred(void) { return SO_PEERCRED; }
