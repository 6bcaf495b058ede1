/* SPDX-License-Identifier: MIT */
/* The lab the verify tests share (unit: its flow list; lab: the real probes): VMs with NSG allows
 * and denies, a peering, an unjoined VNet, a kubenet cluster, Internet hosts. No `name:`. */
#ifndef VNETLAB_TEST_VERIFY_LAB_H
#define VNETLAB_TEST_VERIFY_LAB_H

#define VERIFY_LAB \
    "vnets:\n" \
    "  - name: a\n" \
    "    addressSpace: [10.30.0.0/16]\n" \
    "    subnets:\n" \
    "      - {name: web, addressPrefix: 10.30.1.0/24, networkSecurityGroup: web-nsg}\n" \
    "      - {name: app, addressPrefix: 10.30.2.0/24, networkSecurityGroup: app-nsg}\n" \
    "      - {name: aks, addressPrefix: 10.30.3.0/24}\n" \
    "    virtualNetworkPeerings:\n" \
    "      - {name: a-to-b, remoteVirtualNetwork: b}\n" \
    "  - name: b\n" \
    "    addressSpace: [10.31.0.0/16]\n" \
    "    subnets:\n" \
    "      - {name: s, addressPrefix: 10.31.1.0/24}\n" \
    "    virtualNetworkPeerings:\n" \
    "      - {name: b-to-a, remoteVirtualNetwork: a}\n" \
    "  - name: c\n" \
    "    addressSpace: [10.32.0.0/16]\n" \
    "    subnets:\n" \
    "      - {name: s, addressPrefix: 10.32.1.0/24}\n" \
    "networkSecurityGroups:\n" \
    "  - name: web-nsg\n" \
    "    securityRules:\n" \
    "      - {name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, sourceAddressPrefix: VirtualNetwork, sourcePortRange: \"*\", destinationAddressPrefix: \"*\", destinationPortRange: \"80\"}\n" \
    "      - {name: deny-echo-udp, priority: 200, direction: Inbound, access: Deny, protocol: Udp, sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: \"*\", destinationPortRange: \"7\"}\n" \
    "  - name: app-nsg\n" \
    "    securityRules:\n" \
    "      - {name: deny-web, priority: 100, direction: Inbound, access: Deny, protocol: Tcp, sourceAddressPrefix: 10.30.1.0/24, sourcePortRange: \"*\", destinationAddressPrefix: \"*\", destinationPortRange: \"*\"}\n" \
    "      - {name: deny-out-internet, priority: 110, direction: Outbound, access: Deny, protocol: \"*\", sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: Internet, destinationPortRange: \"*\"}\n" \
    "vms:\n" \
    "  - {name: web1, subnet: a/web, app: hello, ports: [80]}\n" \
    "  - {name: web2, subnet: a/web, app: echo, ports: [7]}\n" \
    "  - {name: app1, subnet: a/app, app: echo, ports: [7, 8080]}\n" \
    "  - {name: b1, subnet: b/s, app: hello, ports: [80]}\n" \
    "  - {name: c1, subnet: c/s, app: echo, ports: [7]}\n" \
    "aksClusters:\n" \
    "  - name: k\n" \
    "    subnet: a/aks\n" \
    "    networkPlugin: kubenet\n" \
    "    nodeCount: 2\n" \
    "    pods:\n" \
    "      - {name: p, replicas: 3, app: echo, ports: [7]}\n" \
    "internet:\n" \
    "  hosts:\n" \
    "    - {name: site, app: hello, ports: [80]}\n" \
    "    - {name: udpsrv, app: echo, ports: [7]}\n"

#endif
