/* SPDX-License-Identifier: MIT */
/* Shared by the files of lab/state. */
#ifndef VNETLAB_STATE_INT_H
#define VNETLAB_STATE_INT_H

/* Create VL_STATE_ROOT 0700 (tighten it when older code left it open); -EPERM when not ours. */
int vl_state_root_ready(void);

#endif
