
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"

#if (NGX_LINUX)
#include <sys/un.h>
#endif


/*
 * Same-host messages between workers: each worker receives datagrams on
 * a Unix socket named after its pid (in Linux's abstract namespace, so
 * nothing is left on disk and the name dies with the process).  A worker
 * that needs another one to act on a stream it holds sends it a command;
 * the session record says which pid holds a session's stream.
 *
 * The socket is also the worker's shutdown watch: it is marked idle, so a
 * graceful shutdown runs its read handler with c->close set, and that ends
 * every stream of the worker before the socket itself is closed.
 */


#define NGX_HTTP_MCP_IPC_NAME     "ngx_http_mcp:"
#define NGX_HTTP_MCP_IPC_MAX      512


typedef struct {
    u_char                    type;
    u_char                    id[NGX_HTTP_MCP_SESSION_ID_LEN];
} ngx_http_mcp_ipc_msg_t;


static void ngx_http_mcp_ipc_read(ngx_event_t *ev);
#if (NGX_LINUX)
static socklen_t ngx_http_mcp_ipc_addr(struct sockaddr_un *sun,
    ngx_pid_t pid);
static ngx_socket_t ngx_http_mcp_ipc_socket(ngx_cycle_t *cycle);
#endif


static ngx_connection_t  *ngx_http_mcp_ipc_connection;


#if (NGX_LINUX)

static socklen_t
ngx_http_mcp_ipc_addr(struct sockaddr_un *sun, ngx_pid_t pid)
{
    u_char  *p;

    ngx_memzero(sun, sizeof(struct sockaddr_un));
    sun->sun_family = AF_UNIX;

    /* sun_path[0] == '\0': the abstract namespace */

    p = ngx_sprintf((u_char *) sun->sun_path + 1,
                    NGX_HTTP_MCP_IPC_NAME "%P", pid);

    return (socklen_t) (p - (u_char *) sun);
}

#endif


#if (NGX_LINUX)

static ngx_socket_t
ngx_http_mcp_ipc_socket(ngx_cycle_t *cycle)
{
    int                 on;
    socklen_t           len;
    ngx_socket_t        s;
    struct sockaddr_un  sun;

    s = ngx_socket(AF_UNIX, SOCK_DGRAM, 0);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_socket_errno,
                      "mcp: socket() failed");
        return (ngx_socket_t) -1;
    }

    len = ngx_http_mcp_ipc_addr(&sun, ngx_pid);

    /* the kernel tells who sent each datagram: only our own user counts */

    on = 1;

    if (bind(s, (struct sockaddr *) &sun, len) == -1
        || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1
        || ngx_nonblocking(s) == -1)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_socket_errno,
                      "mcp: the worker socket could not be set up; "
                      "streams of this worker end at their keepalive "
                      "when their session is deleted elsewhere");
        ngx_close_socket(s);
        return (ngx_socket_t) -1;
    }

    return s;
}

#endif


ngx_int_t
ngx_http_mcp_ipc_init_process(ngx_cycle_t *cycle)
{
    ngx_fd_t           fds[2];
    ngx_uint_t         polled;
    ngx_socket_t       s;
    ngx_connection_t  *c;

#if (NGX_LINUX)
    s = ngx_http_mcp_ipc_socket(cycle);
#else
    s = (ngx_socket_t) -1;
#endif

    polled = (s != (ngx_socket_t) -1);

    if (!polled) {

        /*
         * Without a worker socket the shutdown watch still has to exist:
         * a pipe nobody writes to, never polled.
         */

        if (pipe(fds) == -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "pipe() failed");
            return NGX_ERROR;
        }

        (void) close(fds[1]);
        s = fds[0];
    }

    c = ngx_get_connection(s, cycle->log);
    if (c == NULL) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c->read->handler = ngx_http_mcp_ipc_read;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->idle = 1;

    if (!polled) {
        return NGX_OK;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    ngx_http_mcp_ipc_connection = c;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_ipc_close_stream(ngx_pid_t pid, ngx_str_t *id, ngx_log_t *log)
{
#if (NGX_LINUX)
    ssize_t                  n;
    socklen_t                len;
    struct sockaddr_un       sun;
    ngx_http_mcp_ipc_msg_t   msg;

    if (ngx_http_mcp_ipc_connection == NULL
        || id->len != NGX_HTTP_MCP_SESSION_ID_LEN)
    {
        return NGX_DECLINED;
    }

    msg.type = NGX_HTTP_MCP_IPC_CLOSE_STREAM;
    ngx_memcpy(msg.id, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    len = ngx_http_mcp_ipc_addr(&sun, pid);

    n = sendto(ngx_http_mcp_ipc_connection->fd, &msg, sizeof(msg), 0,
               (struct sockaddr *) &sun, len);

    if (n != (ssize_t) sizeof(msg)) {
        /* the worker is gone or too busy: its ping will notice */
        ngx_log_error(NGX_LOG_INFO, log, ngx_socket_errno,
                      "mcp: could not reach worker %P", pid);
        return NGX_DECLINED;
    }

    return NGX_OK;

#else

    return NGX_DECLINED;

#endif
}


static void
ngx_http_mcp_ipc_read(ngx_event_t *ev)
{
    ssize_t                  n;
    ngx_str_t                id;
    ngx_connection_t        *c;
#if (NGX_LINUX)
    struct iovec             iov;
    struct msghdr            mh;
    struct ucred            *cred;
    struct cmsghdr          *cm;
    u_char                   control[CMSG_SPACE(sizeof(struct ucred))];
#endif
    ngx_http_mcp_ipc_msg_t  *msg;
    u_char                   buf[NGX_HTTP_MCP_IPC_MAX];

    c = ev->data;

    if (c->close) {
        /* the worker is shutting down */

        ngx_http_mcp_sse_close_all();

        ngx_http_mcp_ipc_connection = NULL;
        ngx_close_connection(c);
        return;
    }

    /* edge-triggered: read until nothing is left */

    for ( ;; ) {
#if (NGX_LINUX)
        iov.iov_base = buf;
        iov.iov_len = sizeof(buf);

        ngx_memzero(&mh, sizeof(struct msghdr));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control;
        mh.msg_controllen = sizeof(control);

        n = recvmsg(c->fd, &mh, 0);
#else
        n = recv(c->fd, buf, sizeof(buf), 0);
#endif

        if (n == -1) {
            if (ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            if (ngx_socket_errno != NGX_EAGAIN) {
                ngx_log_error(NGX_LOG_ALERT, c->log, ngx_socket_errno,
                              "mcp: recv() on the worker socket failed");
            }

            break;
        }

        if (n != (ssize_t) sizeof(ngx_http_mcp_ipc_msg_t)) {
            continue;
        }

#if (NGX_LINUX)
        cm = CMSG_FIRSTHDR(&mh);

        if (cm == NULL
            || cm->cmsg_level != SOL_SOCKET
            || cm->cmsg_type != SCM_CREDENTIALS)
        {
            continue;
        }

        cred = (struct ucred *) CMSG_DATA(cm);

        if (cred->uid != geteuid()) {
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "mcp: a message from uid %d was ignored",
                          (int) cred->uid);
            continue;
        }
#endif

        msg = (ngx_http_mcp_ipc_msg_t *) buf;

        if (msg->type == NGX_HTTP_MCP_IPC_CLOSE_STREAM) {
            id.data = msg->id;
            id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

            ngx_http_mcp_sse_close_session(&id);
        }
    }

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "mcp: the worker socket cannot be polled");
    }
}
