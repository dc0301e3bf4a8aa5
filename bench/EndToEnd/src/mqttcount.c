/*
 * mqttcount.c - cheap MQTT counting subscriber (libmosquitto, threaded loop).
 *   mqttcount <port> <topic> <qos> <statusfile> [timelinefile]
 * Connects to 127.0.0.1:<port>, subscribes <topic> at <qos> and also to
 * $SYS/broker/publish/messages/{received,dropped}. Every 100 ms rewrites
 * <statusfile> atomically with one line:
 *   <unix_time> <msgs_received> <sys_pub_received> <sys_pub_received_time> <sys_dropped> <bad_payloads> <spb_metrics>
 * and once per second appends to <timelinefile>:
 *   <unix_time> <msgs_total> <msgs_in_last_s> <lag_avg_ms> <lag_max_ms>
 * where lag = arrival time - "timestamp" field of the JSON payload (ISO 8601,
 * the source timestamp of the sample).
 * Also, every second, <statusfile>.hist gets the cumulative lag histogram of live
 * messages ("<bucket_upper_ms> <count>" lines; 1 ms buckets to 2 s, then 100 ms
 * buckets to 120 s), so a reader can take percentiles over any window, and
 * <statusfile>.history one line "<history_messages> <history_samples>
 * <first_live_after_unix_s>": messages on a topic ending in "/history" are the
 * gateway's replayed backlog (a JSON array, one element per sample: counted by
 * their "timestamp" keys) and are kept out of the live count and lag.
 * `touch <statusfile>.mark` makes it note the time; the first live message whose
 * payload timestamp is after that mark is reported as first_live_after. Sparkplug B DDATA messages
 * (topic spBv1.0/<group>/DDATA/...) are not JSON: for them <spb_metrics> counts
 * the metrics they carry (top-level protobuf field 2 of the Payload) and no lag
 * is measured.
 */
#define _GNU_SOURCE
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long n_msgs = 0, n_bad = 0, n_spb_metrics = 0;
static unsigned long long sys_recv = 0, sys_drop = 0;
static double sys_recv_time = 0;
static double lag_sum = 0, lag_max = 0; static unsigned long lag_n = 0;
#define FINE 2000
#define COARSE 1180
static unsigned long long hist[FINE + COARSE + 1];
static unsigned long long n_hist_msgs = 0, n_hist_samples = 0;
static double mark_time = 0, first_live_after = 0;
static void hist_add(double lag) {
    int b;
    if (lag < 0) lag = 0;
    if (lag < FINE) b = (int)lag;
    else { b = FINE + (int)((lag - FINE) / 100.0); if (b > FINE + COARSE) b = FINE + COARSE; }
    hist[b]++;
}
static double bucket_upper(int b) { return b < FINE ? b + 1 : FINE + (b - FINE + 1) * 100.0; }
static const char *topic; static int qos;
static volatile sig_atomic_t stop_flag = 0;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static double now_rt(void) { struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }

/* parse ..."timestamp":"2026-11-26T03:48:00.123Z"... -> unix seconds, or -1 */
static double parse_ts(const char *p, int len) {
    const char *k = memmem(p, len, "\"timestamp\":\"", 13);
    if (!k) return -1;
    k += 13;
    if (k + 24 > p + len) return -1;
    struct tm tm; memset(&tm, 0, sizeof tm);
    int ms = 0;
    if (sscanf(k, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) return -1;
    tm.tm_year -= 1900; tm.tm_mon -= 1;
    return (double)timegm(&tm) + ms / 1000.0;
}

/* number of top-level field-2 (Payload.metrics) entries of a Sparkplug B protobuf payload, -1 if malformed */
static long spb_metrics(const unsigned char *p, int len) {
    long n = 0; int i = 0;
    while (i < len) {
        unsigned long long key = 0, v = 0; int s = 0;
        do { if (i >= len || s > 63) return -1; key |= (unsigned long long)(p[i] & 0x7F) << s; s += 7; } while (p[i++] & 0x80);
        int wire = key & 7;
        if (wire == 0) { do { if (i >= len) return -1; } while (p[i++] & 0x80); }
        else if (wire == 1) i += 8;
        else if (wire == 5) i += 4;
        else if (wire == 2) {
            s = 0;
            do { if (i >= len || s > 63) return -1; v |= (unsigned long long)(p[i] & 0x7F) << s; s += 7; } while (p[i++] & 0x80);
            i += (int)v;
            if ((key >> 3) == 2) n++;
        } else return -1;
    }
    return i == len ? n : -1;
}

static void on_connect(struct mosquitto *m, void *u, int rc) {
    (void)u;
    if (rc) { fprintf(stderr, "connect rc=%d\n", rc); return; }
    mosquitto_subscribe(m, NULL, topic, qos);
    mosquitto_subscribe(m, NULL, "$SYS/broker/publish/messages/received", 0);
    mosquitto_subscribe(m, NULL, "$SYS/broker/publish/messages/dropped", 0);
    fprintf(stderr, "mqttcount: subscribed %s qos %d\n", topic, qos);
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg) {
    (void)m; (void)u;
    if (msg->topic[0] == '$') {
        char buf[64]; int l = msg->payloadlen < 63 ? msg->payloadlen : 63;
        memcpy(buf, msg->payload, l); buf[l] = 0;
        pthread_mutex_lock(&mu);
        if (strstr(msg->topic, "received")) { sys_recv = strtoull(buf, NULL, 10); sys_recv_time = now_rt(); }
        else sys_drop = strtoull(buf, NULL, 10);
        pthread_mutex_unlock(&mu);
        return;
    }
    if (strncmp(msg->topic, "spBv1.0/", 8) == 0) {
        long n = strstr(msg->topic, "/DDATA/") ? spb_metrics(msg->payload, msg->payloadlen) : 0;
        pthread_mutex_lock(&mu);
        n_msgs++;
        if (n < 0) n_bad++; else n_spb_metrics += (unsigned long long)n;
        pthread_mutex_unlock(&mu);
        return;
    }
    size_t tl_ = strlen(msg->topic);
    if (tl_ > 8 && strcmp(msg->topic + tl_ - 8, "/history") == 0) {
        unsigned long long k = 0; const char *q = msg->payload, *end = q + msg->payloadlen;
        while (q < end && (q = memmem(q, end - q, "\"timestamp\":", 12)) != NULL) { k++; q += 12; }
        pthread_mutex_lock(&mu); n_hist_msgs++; n_hist_samples += k; pthread_mutex_unlock(&mu);
        return;
    }
    double ts = parse_ts(msg->payload, msg->payloadlen);
    double lag = ts > 0 ? (now_rt() - ts) * 1000.0 : -1;
    pthread_mutex_lock(&mu);
    n_msgs++;
    if (lag < -1000 || ts < 0) n_bad++;
    else {
        lag_sum += lag; lag_n++; if (lag > lag_max) lag_max = lag; hist_add(lag);
        if (mark_time > 0 && first_live_after == 0 && ts >= mark_time) first_live_after = now_rt();
    }
    pthread_mutex_unlock(&mu);
}

static void write_extra(const char *path) {
    char tmp[4096], dst[4096];
    snprintf(dst, sizeof dst, "%s.mark", path);
    if (mark_time == 0 && access(dst, F_OK) == 0) { pthread_mutex_lock(&mu); mark_time = now_rt(); pthread_mutex_unlock(&mu); }
    snprintf(dst, sizeof dst, "%s.hist", path); snprintf(tmp, sizeof tmp, "%s.hist.tmp", path);
    FILE *f = fopen(tmp, "w"); if (!f) return;
    pthread_mutex_lock(&mu);
    for (int b = 0; b <= FINE + COARSE; b++) if (hist[b]) fprintf(f, "%.0f %llu\n", bucket_upper(b), hist[b]);
    pthread_mutex_unlock(&mu);
    fclose(f); rename(tmp, dst);
    snprintf(dst, sizeof dst, "%s.history", path); snprintf(tmp, sizeof tmp, "%s.history.tmp", path);
    f = fopen(tmp, "w"); if (!f) return;
    pthread_mutex_lock(&mu);
    fprintf(f, "%llu %llu %.6f %.6f\n", n_hist_msgs, n_hist_samples, first_live_after, mark_time);
    pthread_mutex_unlock(&mu);
    fclose(f); rename(tmp, dst);
}

static void write_status(const char *path) {
    char tmp[4096]; snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w"); if (!f) return;
    pthread_mutex_lock(&mu);
    fprintf(f, "%.6f %llu %llu %.6f %llu %llu %llu\n", now_rt(), n_msgs, sys_recv, sys_recv_time, sys_drop, n_bad, n_spb_metrics);
    pthread_mutex_unlock(&mu);
    fclose(f); rename(tmp, path);
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: mqttcount port topic qos statusfile [timeline]\n"); return 2; }
    int port = atoi(argv[1]); topic = argv[2]; qos = atoi(argv[3]);
    const char *status = argv[4]; FILE *tl = argc > 5 ? fopen(argv[5], "w") : NULL;
    signal(SIGTERM, on_signal); signal(SIGINT, on_signal);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("bench-counter", true, NULL);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(m);
    unsigned long long last_n = 0; int tick = 0;
    while (!stop_flag) {
        usleep(100000);
        write_status(status);
        if (++tick % 10 == 0 && tl) {
            pthread_mutex_lock(&mu);
            unsigned long long n = n_msgs; double avg = lag_n ? lag_sum / lag_n : 0, mx = lag_max;
            lag_sum = 0; lag_n = 0; lag_max = 0;
            pthread_mutex_unlock(&mu);
            fprintf(tl, "%.3f %llu %llu %.1f %.1f\n", now_rt(), n, n - last_n, avg, mx); fflush(tl);
            last_n = n;
        }
        if (tick % 10 == 0) write_extra(status);
    }
    write_status(status);
    write_extra(status);
    mosquitto_disconnect(m); mosquitto_loop_stop(m, false);
    mosquitto_destroy(m); mosquitto_lib_cleanup();
    return 0;
}
