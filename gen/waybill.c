/* waybill.c: carrier-shaped waybill numbers (SF, ZTO, YTO, STO, Yunda, JD,
 * J&T, EMS with valid UPU S10 numbers) and invalid ones. */
#include "waybill.h"

#include <string.h>

/* Shares roughly follow the 2023 Chinese express market. */
const struct ps_carrier_shape ps_carriers[PS_CAR_COUNT] = {
	[PS_CAR_ZTO] = { "ZTO", "ZT", 0.22 },
	[PS_CAR_YTO] = { "YTO", "YT", 0.16 },
	[PS_CAR_YUNDA] = { "Yunda", "YD", 0.14 },
	[PS_CAR_JT] = { "J&T", "JT", 0.12 },
	[PS_CAR_STO] = { "STO", "ST", 0.12 },
	[PS_CAR_SF] = { "SF", "SF", 0.12 },
	[PS_CAR_EMS] = { "EMS", "EM", 0.07 },
	[PS_CAR_JD] = { "JD", "JD", 0.05 },
};

enum ps_carrier_id ps_carrier_draw(struct ps_rng *r)
{
	double u = ps_rng_unit(r), acc = 0;
	for (int i = 0; i < PS_CAR_COUNT; i++) {
		acc += ps_carriers[i].share;
		if (u < acc)
			return (enum ps_carrier_id)i;
	}
	return PS_CAR_ZTO;
}

uint16_t ps_carrier_field(enum ps_carrier_id c)
{
	return (uint16_t)(((uint8_t)ps_carriers[c].code[0] << 8) |
			  (uint8_t)ps_carriers[c].code[1]);
}

static void digits(struct ps_rng *r, char *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (char)('0' + ps_rng_below(r, 10));
}

/* EMS international-style S10: E + letter, 8 digits, check digit, CN. */
static void make_s10(struct ps_rng *r, char *p)
{
	static const char second[] = "ABCEMRTVZ";
	p[0] = 'E';
	p[1] = second[ps_rng_below(r, sizeof(second) - 1)];
	digits(r, p + 2, 8);
	p[10] = (char)('0' + ps_s10_check_digit(p + 2));
	p[11] = 'C';
	p[12] = 'N';
}

void ps_waybill_make(struct ps_rng *r, enum ps_carrier_id c, uint8_t *wb)
{
	char s[PS_WAYBILL_LEN + 1];
	memset(s, 0, sizeof(s));
	switch (c) {
	case PS_CAR_SF:        /* SF + 13 digits */
		memcpy(s, "SF", 2);
		digits(r, s + 2, 13);
		break;
	case PS_CAR_ZTO:       /* 12 digits starting 7 (75/73/78...) */
		s[0] = '7';
		s[1] = "358"[ps_rng_below(r, 3)];
		digits(r, s + 2, 10);
		break;
	case PS_CAR_YTO:       /* YT + 13 digits */
		memcpy(s, "YT", 2);
		digits(r, s + 2, 13);
		break;
	case PS_CAR_STO:       /* 13 digits starting 77 */
		memcpy(s, "77", 2);
		digits(r, s + 2, 11);
		break;
	case PS_CAR_YUNDA:     /* 13 digits starting 43 or 46 */
		s[0] = '4';
		s[1] = ps_rng_below(r, 2) ? '3' : '6';
		digits(r, s + 2, 11);
		break;
	case PS_CAR_JD:        /* JDX + 12 digits, some with a -1-1- suffix */
		memcpy(s, "JDX", 3);
		digits(r, s + 3, 12);
		if (ps_rng_below(r, 4) == 0)
			memcpy(s + 15, "-1-1-", 5);
		break;
	case PS_CAR_JT:        /* JT + 13 digits */
		memcpy(s, "JT", 2);
		digits(r, s + 2, 13);
		break;
	case PS_CAR_EMS:
	default:
		make_s10(r, s);
		break;
	}
	memcpy(wb, s, PS_WAYBILL_LEN);
}

void ps_waybill_make_invalid(struct ps_rng *r, uint8_t *wb)
{
	char s[PS_WAYBILL_LEN + 1];
	memset(s, 0, sizeof(s));
	switch (ps_rng_below(r, 3)) {
	case 0:                /* S10 with a wrong check digit */
		make_s10(r, s);
		s[10] = (char)('0' + (s[10] - '0' + 1 + ps_rng_below(r, 9)) % 10);
		break;
	case 1:                /* a bad character (lower case, space, '*') */
		memcpy(s, "YT", 2);
		digits(r, s + 2, 13);
		s[2 + ps_rng_below(r, 13)] = " *a?"[ps_rng_below(r, 4)];
		break;
	default:               /* too short: a torn label */
		digits(r, s, 3 + (int)ps_rng_below(r, 5));
		break;
	}
	memcpy(wb, s, PS_WAYBILL_LEN);
}
