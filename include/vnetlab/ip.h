/* SPDX-License-Identifier: MIT */
/* IPv4 addresses and prefixes in host byte order. Pure helpers. */
#ifndef VNETLAB_IP_H
#define VNETLAB_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetlab/model.h"

#define VL_IP_STRLEN 16	    /* "255.255.255.255" + NUL */
#define VL_PREFIX_STRLEN 20 /* "255.255.255.255/32" + NUL, with room for the compiler */

/* Azure's platform addresses (spec section 19.4): the one place they are written. */
#define VL_IP_AZURE_PLATFORM 0xa83f8110u /* 168.63.129.16: DNS, health probes, AzureLoadBalancer */
#define VL_IP_IMDS 0xa9fea9feu		 /* 169.254.169.254: instance metadata */
#define VL_PLATFORM_DNS_PORT 53		 /* AzurePlatformDNS: 168.63.129.16, TCP and UDP 53 */

/* Strict dotted quad; 0 or -EINVAL. */
int vl_ip_parse(const char *s, uint32_t *ip);
/* "a.b.c.d/len" or a bare address (/32). With strict, host bits must be zero. */
int vl_prefix_parse(const char *s, bool strict, struct vl_prefix *p);
/* Formats into buf (at least VL_IP_STRLEN / VL_PREFIX_STRLEN); returns buf. */
char *vl_ip_fmt(uint32_t ip, char *buf);
char *vl_prefix_fmt(struct vl_prefix p, char *buf);

uint32_t vl_prefix_mask(uint8_t len);
uint32_t vl_prefix_last(struct vl_prefix p);
bool vl_prefix_contains(struct vl_prefix p, uint32_t ip);
bool vl_prefix_inside(struct vl_prefix inner, struct vl_prefix outer);
bool vl_prefix_overlaps(struct vl_prefix a, struct vl_prefix b);

#endif
