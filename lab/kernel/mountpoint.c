// SPDX-License-Identifier: MIT
/*
 * The files in /run/netns that namespaces are bind-mounted on. Each is a new name (a hard link)
 * of one inode the process keeps, not a new inode: where /run is ext4 without a journal, as on
 * the development machine, every new inode is looked for past each inode freed in the last
 * 30 seconds (ext4's recently_deleted()), so an `up` of 5,000 namespaces shortly after a `down`
 * of 5,000 spent a quarter of its time there, growing as the square of the lab. A link needs no
 * inode, and a `down` frees one inode, not thousands. A mount point is a name, not an inode, so
 * every link takes its own mount. Anything that fails falls back to a file of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/netns.h"

/* ext4 allows 65,000 links to an inode; a new anchor well before that. */
#define LINKS_PER_ANCHOR 60000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int anchor = -1;	  /* an O_TMPFILE in VL_NETNS_DIR, open for the process's life */
static unsigned links;	  /* names given to it so far */
static int anchor_failed; /* O_TMPFILE or linkat is not to be had here: plain files */

static int own_file(const char *path)
{
	int f = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);

	if (f < 0)
		return -errno;
	close(f);
	return 0;
}

/**
 * vlk_netns_mount_point - make the empty file a namespace is mounted on; -EEXIST if path exists
 */
int vlk_netns_mount_point(const char *path)
{
	int ret;

	pthread_mutex_lock(&lock);
	if (anchor >= 0 && links >= LINKS_PER_ANCHOR) {
		close(anchor);
		anchor = -1;
	}
	if (anchor < 0 && !anchor_failed) {
		anchor = open(VL_NETNS_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0);
		anchor_failed = anchor < 0;
		links = 0;
	}
	if (anchor_failed) {
		pthread_mutex_unlock(&lock);
		return own_file(path);
	}
	/* AT_EMPTY_PATH links the fd itself (root's CAP_DAC_READ_SEARCH); no path is looked up. */
	ret = linkat(anchor, "", AT_FDCWD, path, AT_EMPTY_PATH) < 0 ? -errno : 0;
	if (!ret)
		links++;
	else if (ret != -EEXIST)
		anchor_failed = 1;
	pthread_mutex_unlock(&lock);
	return ret == 0 || ret == -EEXIST ? ret : own_file(path);
}
