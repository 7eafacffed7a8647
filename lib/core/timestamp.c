/*
 * RFC 3339 timestamps as STIX uses them: UTC only, 'T' and 'Z' uppercase, optional fraction.
 *
 * Instants are kept as microseconds since the epoch plus the sub-microsecond remainder, so
 * that comparisons are exact for any precision a producer writes; the number of fractional
 * digits is kept so that callers can check or preserve the precision as given.
 * Leap second 60 is accepted (RFC 3339 allows it) and ordered as second 59 + 1s.
 */
#include <kizuna/core.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* After Howard Hinnant's days_from_civil. */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int kz_time_parse(const char *s, kz_time *t, char *err, size_t errlen)
{
    int y, mo, d, h, mi, se;
    size_t n = strlen(s);
    if (n < 20)
        return fail(err, errlen, "timestamp too short (expected YYYY-MM-DDTHH:MM:SS[.s]Z)");
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return fail(err, errlen, "malformed date (expected YYYY-MM-DD)");
    if (s[10] != 'T')
        return fail(err, errlen, "date and time must be separated by an uppercase 'T'");
    if (digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return fail(err, errlen, "malformed time (expected HH:MM:SS)");
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12)
        return fail(err, errlen, "month out of range");
    int dim = mdays[mo - 1] + (mo == 2 && leap(y));
    if (d < 1 || d > dim)
        return fail(err, errlen, "day out of range for the month");
    if (h > 23 || mi > 59 || se > 60)
        return fail(err, errlen, "time of day out of range");
    const char *p = s + 19;
    int64_t frac_us = 0;
    int32_t extra = 0;
    int fd = 0;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (fd < 6)
                frac_us = frac_us * 10 + (*p - '0');
            else if (fd < 9)
                extra = extra * 10 + (*p - '0');
            fd++;
            p++;
        }
        if (fd == 0)
            return fail(err, errlen, "a '.' must be followed by fractional-second digits");
        for (int i = fd; i < 6; i++)
            frac_us *= 10;
        for (int i = fd < 6 ? 6 : fd; i < 9; i++)
            extra *= 10;
    }
    if (*p != 'Z' || p[1] != '\0') {
        if (*p == 'z')
            return fail(err, errlen, "the time zone designator must be an uppercase 'Z'");
        if (*p == '+' || *p == '-')
            return fail(err, errlen, "timestamps must be in UTC with a 'Z' suffix, not an offset");
        return fail(err, errlen, "timestamp must end with 'Z'");
    }
    int64_t secs = kz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 +
                   (int64_t)mi * 60 + se;
    t->us = secs * 1000000 + frac_us;
    t->frac_digits = fd > 9 ? 9 : fd;
    t->nanos_extra = extra;
    return 0;
}

int kz_time_cmp(const kz_time *a, const kz_time *b)
{
    if (a->us != b->us)
        return a->us < b->us ? -1 : 1;
    if (a->nanos_extra != b->nanos_extra)
        return a->nanos_extra < b->nanos_extra ? -1 : 1;
    return 0;
}

void kz_time_format(int64_t us, int frac_digits, char *buf, size_t len)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac_digits <= 0) {
        snprintf(buf, len, "%sZ", base);
        return;
    }
    if (frac_digits > 6)
        frac_digits = 6;
    int64_t f = frac;
    for (int i = frac_digits; i < 6; i++)
        f /= 10;
    snprintf(buf, len, "%s.%0*lldZ", base, frac_digits, (long long)f);
}

int64_t kz_time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
