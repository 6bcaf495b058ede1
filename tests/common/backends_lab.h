/* SPDX-License-Identifier: MIT */
/* The lab the backend tests share (unit: verify's plan and agreement; lab: the real probes): a Service
 * of three pods on two nodes, web-a connects, web-b is isolated by a network policy, web-c runs no
 * app; a LoadBalancer frontend over the same pods; an Internet host. No `name:`. */
#ifndef VNETLAB_TEST_BACKENDS_LAB_H
#define VNETLAB_TEST_BACKENDS_LAB_H

#define BACKENDS_LAB                                                                                         \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.72.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.72.0.0/24}]\n"                                          \
	"aksClusters:\n"                                                                                     \
	"  - name: k\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: azure\n"                                                                         \
	"    nodeCount: 2\n"                                                                                 \
	"    pods:\n"                                                                                        \
	"      - {name: web-a, labels: {app: web, side: a}, app: hello, ports: [8080], node: 0}\n"           \
	"      - {name: web-b, labels: {app: web, side: b}, app: hello, ports: [8080], node: 1}\n"           \
	"      - {name: web-c, labels: {app: web, side: c}, node: 1}\n"                                      \
	"      - {name: client, labels: {app: client}, app: hello, ports: [80], node: 0}\n"                  \
	"    services:\n"                                                                                    \
	"      - {name: web, selector: {app: web}, port: 80, targetPort: 8080}\n"                            \
	"      - {name: front, type: LoadBalancer, selector: {app: web}, port: 80, targetPort: 8080,\n"      \
	"         loadBalancerIP: 198.51.100.120}\n"                                                         \
	"    networkPolicies:\n"                                                                             \
	"      - apiVersion: networking.k8s.io/v1\n"                                                         \
	"        kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: deny-b, namespace: default}\n"                                             \
	"        spec: {podSelector: {matchLabels: {side: b}}, policyTypes: [Ingress]}\n"                    \
	"internet: {hosts: [{name: surfer, address: 203.0.113.70}]}\n"

#endif
