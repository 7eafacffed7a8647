/* Test helper: a loopback listener for the scripted servers of the client tests. */
#ifndef KT_NET_H
#define KT_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks (*port). Exits the test
 * program when it cannot be made: the tests cannot run without their server. */
static inline int kt_listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("loopback listener for the scripted server");
        exit(1);
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

#endif
