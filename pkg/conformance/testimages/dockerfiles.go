package testimages

// The Dockerfiles follow upstream's test/images/<name>/Dockerfile (k8s.io/kubernetes
// v1.37.2) with Debian in place of Alpine. Those starting FROM the base get
// their FROM line from newRecipe.

// agnhostDockerfile: upstream's agnhost is Alpine with bind-tools, curl,
// netcat-openbsd, iproute2, iperf, bash, util-linux-misc and socat, busybox
// for everything else, /uploads (netexec), porter's localhost.crt/.key in /,
// /agnhost-2 (entrypoint-tester) and the user and group of the
// SupplementalGroups specs: user-defined-in-image (uid 1000, own group 1000)
// in group-defined-in-image (gid 50000). Busybox applets Debian lacks (wget,
// ping, …) are linked in /usr/local/bin.
const agnhostDockerfile = `RUN for a in $(busybox --list); do command -v "$a" >/dev/null 2>&1 || ln -s /bin/busybox "/usr/local/bin/$a"; done \
 && ln -s /usr/bin/iperf /usr/local/bin/iperf \
 && mkdir /uploads \
 && groupadd -g 1000 user-defined-in-image \
 && useradd -u 1000 -g 1000 -m -s /bin/sh user-defined-in-image \
 && groupadd -g 50000 group-defined-in-image \
 && usermod -a -G group-defined-in-image user-defined-in-image
COPY localhost.crt localhost.key agnhost /
RUN ln -s agnhost /agnhost-2
# 80: test-webserver; 8080: netexec, nettest, resource-consumer; 8081: netexec;
# 9376: serve-hostname; 5000: grpc-health-checking, fake-registry-server
EXPOSE 80 8080 8081 9376 5000
WORKDIR /
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
`

// demoDockerfile: nautilus and kitten are agnhost serving / with
// test-webserver on port 80, with /<name>.jpg and /data.json naming it.
const demoDockerfile = `FROM ` + refAgnhost + `
COPY %[1]s.jpg data.json /
CMD ["test-webserver"]
`

// busyboxDockerfile: upstream mirrors Docker's busybox (no Debian in it):
// /bin/busybox with every applet linked in /bin, a small /etc/passwd and
// /etc/group, /tmp, CMD sh. Its first stage is the base image.
const busyboxDockerfile = `FROM scratch
COPY --from=debian /bin/busybox /bin/busybox
COPY passwd group /etc/
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /tmp /root /home /var/www /usr/sbin && chmod 1777 /tmp && chmod 700 /root"]
ENV ` + envPath + `
CMD ["sh"]
`

const busyboxPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`

const busyboxGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
`

// pauseDockerfile is upstream's build/pause: the binary alone, as 65535.
const pauseDockerfile = `FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
`

// nginxDockerfile: upstream mirrors nginx:1.27-alpine: the default site at
// /usr/share/nginx/html on port 80, logs to stdout/stderr, in the
// foreground, stopped gracefully by SIGQUIT.
const nginxDockerfile = `COPY nginx.conf /etc/nginx/nginx.conf
COPY default.conf /etc/nginx/conf.d/default.conf
COPY index.html 50x.html /usr/share/nginx/html/
RUN mkdir -p /var/log/nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
`

const nginxConf = `user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log notice;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /var/log/nginx/access.log;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
`

const nginxSite = `server {
    listen 80;
    server_name localhost;

    location / {
        root /usr/share/nginx/html;
        index index.html index.htm;
    }

    error_page 500 502 503 504 /50x.html;
    location = /50x.html {
        root /usr/share/nginx/html;
    }
}
`

const nginxIndex = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
</body>
</html>
`

const nginx50x = `<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
</body>
</html>
`

// glibcDNSTestingDockerfile: upstream is debian:bookworm-slim with dnsutils;
// the base has dig and getent already.
const glibcDNSTestingDockerfile = `CMD ["bash"]
`

// nonewprivsDockerfile: nnp prints its effective uid; setuid root, it shows
// whether privilege escalation was allowed.
const nonewprivsDockerfile = `COPY nnp /usr/local/bin/nnp
RUN chmod 4755 /usr/local/bin/nnp
CMD ["nnp"]
`

// nonrootDockerfile: upstream is Debian running as uid 1234.
const nonrootDockerfile = `USER 1234
`

const sampleAPIServerDockerfile = `COPY sample-apiserver /sample-apiserver
ENTRYPOINT ["/sample-apiserver"]
`

// etcdDockerfile: the aggregator spec runs /usr/local/bin/etcd with its own
// flags; upstream's image has no entrypoint either.
const etcdDockerfile = `COPY etcd /usr/local/bin/etcd
EXPOSE 2379 2380 4001 7001
`
