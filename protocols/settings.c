/* protocols/settings.c - parsing and canonical text of a protocol's
 * settings (protocol.h), and the keys that several protocols share. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "protocols/internal.h"

const struct mb_param pr_subject_settings[] = { PR_KEY_FOLDS, PR_KEY_OFFICIAL, MB_PARAM_END };

const struct mb_param pr_unseen_settings[] = { PR_KEY_FOLDS, PR_KEY_OFFICIAL, PR_KEY_UNSEEN_FRACTION, MB_PARAM_END };

int pr_check_subject_settings(const struct pr_settings *s)
{
    if (s->folds == 1)
        return mb_error(MB_EINVAL, "folds: 1 fold leaves no training subject (0 = one fold per subject, k >= 2 = "
                        "grouped k-fold)");
    if (s->unseen_fraction >= 1)
        return mb_error(MB_EINVAL, "unseen_fraction: 1 holds out every gesture (give a share in (0, 1))");
    if (s->unseen_fraction < 0)
        return mb_error(MB_EINVAL, "unseen_fraction: %g is not a share in (0, 1)", s->unseen_fraction);
    return MB_OK;
}

int pr_settings_parse(struct pr_settings *s, const struct mb_protocol *p, const char *text)
{
    memset(s, 0, sizeof *s);
    int rc = mb_params_parse(s, p->settings, text, p->name);
    if (!rc && p->check) {
        mb_error_quiet_begin();   /* reported once below, with the protocol's name */
        rc = p->check(s);
        mb_error_quiet_end();
        if (rc) {
            char why[512];
            snprintf(why, sizeof why, "%s", mb_last_error());
            rc = mb_error(rc, "%s: %s", p->name, why);
        }
    }
    return rc;
}

size_t pr_settings_text(char *buf, size_t cap, const struct mb_protocol *p, const struct pr_settings *s)
{
    return mb_params_text(buf, cap, p->settings, s);
}
