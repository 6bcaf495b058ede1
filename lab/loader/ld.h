/* SPDX-License-Identifier: MIT */
/*
 * Loader internals shared by yaml.c, common.c, topology.c and import.c.
 * A YAML document becomes a small tree of located nodes; the mappers walk it
 * and report the first problem at the node that caused it.
 */
#ifndef VNETLAB_LOADER_LD_H
#define VNETLAB_LOADER_LD_H

#include <stdbool.h>
#include <stddef.h>

#include "vnetlab/model.h"

#define LD_FILE_MAX (16u << 20) /* larger inputs are not topologies */
#define LD_DEPTH_MAX 64

enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum yn_kind kind;
	bool null;  /* plain empty, ~ or null */
	bool plain; /* unquoted scalar */
	struct vl_loc loc;
	char *str;	     /* scalar text, NUL-free */
	struct ynode **kids; /* seq: items; map: key, value, key, value… */
	size_t n;	     /* items, or key/value pairs */
};

/* Parse exactly one YAML document. An empty input gives *out == NULL. */
int yn_parse(const char *file, const char *buf, size_t len, struct ynode **out, struct vl_error *err);
/* Every document of a stream (`---`-separated), as the items of one YN_SEQ node; empty ones dropped. */
int yn_parse_docs(const char *file, const char *buf, size_t len, struct ynode **out, struct vl_error *err);
void yn_free(struct ynode *n);

struct vl_imports;
struct ld {
	const char *file;
	struct vl_error *err;
	struct vl_imports *imports; /* NULL: read imports from disk, record nothing */
	bool hide;		    /* an imported file: its values are never quoted in errors */
	const struct vl_lab *lab;   /* the topology's ASGs and service tags, NULL outside one */
};
/*
 * A value from the input as an error may show it: control characters escaped, cut to fit;
 * "(not shown)" for an imported file (it may be any file root can read).
 */
const char *ld_quote(const struct ld *c, const char *s, char *buf, size_t len);
/*
 * A key name: escaped and cut to 32 characters; from an imported file (or with c NULL, where the
 * file is not known) only when it looks like a field name, else "(not shown)".
 */
const char *ld_quote_key(const struct ld *c, const char *s, char *buf, size_t len);

int ld_fail(struct ld *c, const struct ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *ld_kind(const struct ynode *n);
/* Value for key, or NULL when absent or null. */
const struct ynode *ld_get(const struct ynode *map, const char *key);
int ld_keys(struct ld *c, const struct ynode *map, const char *what, const char *const *allowed);
int ld_map(struct ld *c, const struct ynode *n, const char *what);
int ld_seq(struct ld *c, const struct ynode *n, const char *what);
int ld_str(struct ld *c, const struct ynode *n, const char *what, char **out);
int ld_int(struct ld *c, const struct ynode *n, const char *what, long lo, long hi, int *out);
int ld_need(struct ld *c, const struct ynode *map, const char *key, const char *what,
	    const struct ynode **out);

/* One NSG object (az flattened or REST `properties` shape), rules included.
 * import_dir != NULL allows `import:` relative to that directory;
 * *imported tells whether the rules came from an import (already validated). */
int ld_nsg(struct ld *c, const struct ynode *map, const char *import_dir, struct vl_nsg *nsg, bool *imported);
/* A bare array of rules as printed by `az network nsg rule list -o json`. */
int ld_rule_array(struct ld *c, const struct ynode *seq, struct vl_nsg *nsg);
void ld_nsg_clear(struct vl_nsg *nsg);

/* The ARM fields of a security rule that a file or a live edit may set, besides its name. */
#define LD_RULE_FIELDS                                                                                       \
	"priority", "direction", "access", "protocol", "description", "sourceAddressPrefix",                 \
	    "sourceAddressPrefixes", "sourcePortRange", "sourcePortRanges", "destinationAddressPrefix",      \
	    "destinationAddressPrefixes", "destinationPortRange", "destinationPortRanges"

/*
 * Reads a regular file of at most LD_FILE_MAX bytes into a NUL-terminated
 * buffer. On failure err says "cannot read <what>: <reason>" (no line).
 */
int ld_read_file(const char *path, const char *what, char **buf, size_t *len, struct vl_error *err);
/*
 * The NSG an `import:` node asks for, read from path or, when replaying, from c->imports;
 * recorded into c->imports when it is given. 0, -EINVAL (c->err says why) or -ENOMEM.
 */
int ld_import(struct ld *c, const struct ynode *imp, const char *path, const char *name_hint, struct vl_nsg *got);
/* vl_nsg_import_buffer; hide: the file is imported by a topology, quote none of its values. */
int ld_import_buffer(const char *name, const char *buf, size_t len, const char *name_hint, bool hide,
		     const struct vl_lab *lab, struct vl_nsg *out, struct vl_error *err);
/*
 * Any other file a topology names (serviceTags), read from path or, when replaying, from
 * c->imports, and recorded like an NSG import. *buf is the caller's to free.
 */
int ld_import_data(struct ld *c, const struct ynode *ref, const char *path, const char *what, char **buf,
		   size_t *len);
/* Why ld_read_file failed, in words. */
const char *ld_read_reason(int e);

#endif
