/* spw-conform — a synthesized TCP capture of what the tool and the IUT said.
 *
 * The tool talks over socketpairs as often as over TCP, so no real capture
 * exists; this writes one (pcap, LINKTYPE_RAW IPv4) from the bytes the tool
 * already knows, so a user can open a failing case in Wireshark or tcpdump
 * and "Follow TCP stream". The tool is 10.0.0.1 port 40000+conn, the IUT
 * 10.0.0.2 port 5555+conn: one TCP stream per connection. Sequence numbers
 * start at 1000 (tool) and 2000 (IUT) and nothing depends on the host, so the
 * same calls produce a byte-identical file.
 *
 * Write errors are sticky and reported once, by cf_pcap_close: a capture is a
 * diagnostic aid and must never make a case fail halfway.
 */
#ifndef SPW_CONFORM_PCAP_H
#define SPW_CONFORM_PCAP_H

#include <stddef.h>

typedef struct cf_pcap cf_pcap;

/* Create PATH (truncating it) and write the pcap global header. NULL on
 * failure, with "PATH: strerror" in err (err may be NULL). */
cf_pcap *cf_pcap_open(const char *path, char *err, size_t errlen);

/* N bytes on connection CONN (0..15) from the IUT (FROM_IUT != 0) or from the
 * tool, at wall-clock time US (microseconds since the epoch). The first call
 * of any kind on a connection first records the three-way handshake at the
 * same time stamp. Data goes out in segments of at most 65000 bytes, with no
 * synthesized ACKs: every segment's ack number covers all the other side has
 * sent. N == 0, a NULL P or a CONN out of range is a no-op. */
void cf_pcap_data(cf_pcap *p, int conn, int from_iut, long long us, const void *b, size_t n);

/* A FIN from that side; it takes one sequence number. Once per side: a second
 * call is a no-op. */
void cf_pcap_fin(cf_pcap *p, int conn, int from_iut, long long us);

/* A RST from that side, e.g. the IUT reset the connection. */
void cf_pcap_rst(cf_pcap *p, int conn, int from_iut, long long us);

/* Flush, close and free P. 0, or -1 if any write failed since cf_pcap_open,
 * with "PATH: strerror" in err. A NULL P is a no-op returning 0. */
int cf_pcap_close(cf_pcap *p, char *err, size_t errlen);

#endif
