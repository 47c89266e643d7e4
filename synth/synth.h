/* synth/synth.h - the synthetic corpus generator: one population of
 * virtual subjects rendered by several virtual devices, each written in the
 * native layout of a real corpus (docs/SYNTH.md describes the model and
 * every quirk copied from the real files).
 *
 * Model, in one line per stage (synth/model.c):
 *   gesture = signed mix of 10 joint-motion primitives  ->  pose trajectory
 *   over 23 degrees of freedom (the 20 emg2pose joints, wrist flexion,
 *   wrist deviation, pronation)  ->  activations of 12 virtual forearm
 *   muscles (fixed anatomical map of angles and velocities, per-subject
 *   variation)  ->  activation-modulated band-limited noise per muscle  ->
 *   electrode mixing (muscle angular positions, armband rotation per subject
 *   and session, channel gains, tissue low-pass)  ->  powerline, baseline
 *   wander, sensor noise  ->  the device's filters, rate and quantisation.
 * That is model 1 (the default). Model 2 (synth_params.model, --model v2)
 * keeps the trajectory and replaces the muscles and the EMG: 26 forearm
 * compartments (one FDS, FDP and EDC per finger, the thumb's and index's
 * own muscles), motor-unit pools whose MUAP trains are the sources, volume
 * conduction by geometry (depth, fat, electrode size and spacing), and
 * sessions with re-donning, fatigue and sweat (synth/muscles_v2.c,
 * synth/emg_v2.c, docs/SYNTH.md "Model v2").
 *
 * Everything random comes from core/rng.h streams keyed by (seed, subject,
 * device, group, session, side, purpose), so any file can be regenerated on
 * its own, and the whole corpus is identical for any thread count.
 *
 * Typical use (a converter test):
 *
 *     struct synth_params p;
 *     synth_params_preset(&p, "tiny", 1);
 *     synth_write(dir, &p, NULL);                       // the native files
 *     struct synth_file *files; size_t nf;
 *     synth_list(&files, &nf, &p);                      // what was written
 *     struct synth_recording r;
 *     synth_render(&r, &p, &files[i]);                  // ground truth of file i
 *     ... compare with the unified file ...
 *     synth_recording_free(&r);
 *     free(files);
 *
 * ---- How each native field maps to struct synth_recording ----------------
 *
 * emg [n x C] always holds exactly the numbers the file stores, widened to
 * double (so (float)emg[i] is what a converter storing float32 must hold):
 *   emg2pose  'emg' field, float32 (a.u., 2 kHz, high-passed at 20 Hz)
 *   DB1       'emg' double, volts: RMS envelope quantised to 5/2048 V, then
 *             rounded to 4 decimals as the real files are (0.0024, 0.0049...)
 *   DB2       'emg' double, volts (Delsys-like, 2 kHz)
 *   DB5       'emg' single holding integers -128..127 (two Myo armbands)
 *   Myo       int8 counts, the first 8 columns of each line
 *   Kaufmann  the %.18e numbers of the 4 columns (multiples of 0.001)
 *   UCI       channel1..channel8: Myo counts / 1e5, printed with %g
 * time [n] (NULL when the file has none):
 *   emg2pose  the 'time' field: absolute Unix seconds, start + i / 2000
 *   UCI       the 'time' column in milliseconds (integers, irregular steps)
 * label [n], in the file's OWN numbering:
 *   emg2pose  index of the stage in synth_e2p_stage_name() (the file has no
 *             per-sample label; the 'stage' attribute names it); all samples
 *   NinaPro   'restimulus' as stored: DB1 restarts at 1 in every exercise
 *             (label_offset 0/12/29 makes it global), DB2 and DB5 are
 *             already global (E1 1-17, E2 18-40, E3 41-49 / E1 1-12, E2
 *             13-29, E3 30-52); 0 = rest
 *   Myo       last column: 0 = hibernation (rest), else the gesture of the
 *             file name
 *   Kaufmann  the class of the file name, on every row (no label column)
 *   UCI       'class' column: 0 = unmarked (no gesture), 1 = rest, 2.. gestures
 * unlabelled is the native value meaning "no gesture here" (UCI 0), or
 * SYNTH_NO_UNLABELLED when every value is a class (NinaPro and Myo 0 = rest).
 * rep [n]: NinaPro 'rerepetition' as stored (DB5: see the quirk in
 * SYNTH.md: rest before a movement carries that movement's repetition);
 * NULL for the other formats, which store none.
 * stimulus, repetition [n]: NinaPro raw protocol vectors, else NULL.
 * pose [n x 20]: emg2pose 'joint_angles' exactly as stored (radians; an
 * all-zero row is an IK failure; the f32 variant holds float-rounded
 * values); pose_valid [n] is 0 on those rows, 1 elsewhere. NULL elsewhere.
 * glove [n x n_glove], acc [n x n_acc]: NinaPro 'glove' / 'acc' as stored.
 *
 * Split tags (emg2pose metadata.csv, formats.md §2.5/§2.7) are in the
 * struct's string fields; NinaPro, Myo, Kaufmann and UCI carry none.
 */
#ifndef MB_SYNTH_SYNTH_H
#define MB_SYNTH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SYNTH_N_JOINTS  20          /* emg2pose joints, formats.md §2.4 order */
#define SYNTH_N_DOF     23          /* joints + wrist flexion, wrist radial deviation, pronation */
#define SYNTH_N_MUSCLES 12
#define SYNTH_NO_UNLABELLED INT32_MIN

enum synth_device {
    SYNTH_EMG2POSE = 0,  /* DIR/emg2pose/<stem>.hdf5 + metadata.csv */
    SYNTH_DB1,           /* DIR/ninapro_db1/s<N>/S<N>_A1_E<e>.mat */
    SYNTH_DB2,           /* DIR/ninapro_db2/DB2_s<N>/S<N>_E<e>_A1.mat */
    SYNTH_DB5,           /* DIR/ninapro_db5/s<N>/S<N>_E<e>_A1.mat */
    SYNTH_MYO,           /* DIR/myo_readings/_readings_right_hand/<id>-<session>/<label>.txt */
    SYNTH_KAUFMANN,      /* DIR/kaufmann_multiday/S<s>_D<day>_C<class>.csv */
    SYNTH_UCI,           /* DIR/uci_gestures/<SS>/<n>_raw_data_<hh-mm>_<dd.mm.yy>.txt */
    SYNTH_N_DEVICES
};

/* Sizes of one generated population. Fill with synth_params_preset(), then
 * override fields if needed (tests shrink durations this way). */
struct synth_params {
    uint64_t seed;
    int n_subjects;
    /* Scales the between-subject spread of anatomy and armband placement (muscle
     * angles, sizes and filters, the pose-to-activation maps, the habitual armband
     * rotation): 1 = the presets' population, 0 = every subject has the mean anatomy
     * and wears the band the same way (habits such as pace still differ). For
     * studying how much cross-user variability costs a method; 0 to 2. */
    double subject_spread;
    unsigned devices;           /* bit (1u << dev) set: write that device */
    /* Generator model: 2 (SYNTH_MODEL_DEFAULT: muscle compartments per
     * finger, motor units, volume conduction, sessions with re-donning,
     * fatigue and sweat; docs/SYNTH.md "Model v2") or 1 (every number
     * before model v2 existed, byte for byte). Files of model 2 record it
     * (see synth_read_model); model 1 is implied where nothing is recorded. */
    int model;
    /* emg2pose */
    int e2p_f32;                /* 1: float32 joint_angles, chunked + gzip */
    int e2p_sessions;           /* sessions per user */
    int e2p_n_stages;           /* stages per session, from e2p_stages[] */
    int e2p_stages[29];         /* indices into synth_e2p_stage_name() */
    double e2p_stage_s;         /* seconds per stage file */
    int e2p_held_out_users;     /* the last N users are held out */
    double e2p_ik_fail;         /* fraction of rows with IK failures */
    /* NinaPro */
    int db1_exercises, db5_exercises, db2_exercises;  /* 1..3: E1..En */
    double nina_move_s, nina_rest_s;   /* DB1 and DB5 trial timing */
    double db2_move_s, db2_rest_s;
    int db2_subjects;           /* DB2 subjects (<= n_subjects): 2 kHz x 72 columns is big */
    /* text dialects */
    int myo_sessions;
    double myo_file_s;          /* seconds per gesture file (real: 60) */
    int kauf_days;              /* days 1..kauf_days (real set: 1..120) */
    double kauf_file_s;         /* seconds per class file (real: about 5-7) */
    double uci_gesture_s, uci_pause_s;
};

/* The model synth_params_preset() and `myobench synth` use: v2 since it
 * was tuned to the real recordings (docs/SYNTH.md); v1 stays reachable. */
#define SYNTH_MODEL_DEFAULT 2

/* preset: "tiny" (tests: whole corpus in seconds), "default" (the demo),
 * "large" (benchmarks: emg2pose 1.5 GB per subject) or "sessions" (many
 * sessions per subject: emg2pose and Myo readings, for cross-session
 * adaptation). MB_EINVAL if unknown. Model SYNTH_MODEL_DEFAULT. */
int synth_params_preset(struct synth_params *p, const char *preset, uint64_t seed) MB_MUST_CHECK;
/* The preset as model 'model' (1 or 2) renders it: under model 2 the
 * emg2pose presets have the several sessions per user the real corpus has
 * (docs/SYNTH.md). MB_EINVAL if the preset or the model is unknown. */
int synth_params_preset_model(struct synth_params *p, const char *preset, uint64_t seed, int model) MB_MUST_CHECK;
/* MB_EINVAL (naming the field) when a parameter is out of range; every
 * other function checks this first. */
int synth_params_check(const struct synth_params *p) MB_MUST_CHECK;

/* One native file of the corpus. */
struct synth_file {
    enum synth_device dev;
    int subject;                /* 0-based index into the population */
    int session;                /* emg2pose session, Myo session, Kaufmann day index; else 0 */
    int group;                  /* emg2pose stage slot (index into p->e2p_stages), NinaPro
                                 * exercise 1..3, Myo label 0..7, Kaufmann class 0..10,
                                 * UCI series 1..2 */
    int side;                   /* emg2pose: 0 left, 1 right; else 0 */
    char relpath[192];          /* path under the output directory */
};

/* Every file the corpus holds, in writing order (emg2pose first). *out is
 * malloc'ed; free() it. metadata.csv is not listed (see synth_write). */
int synth_list(struct synth_file **out, size_t *n, const struct synth_params *p) MB_MUST_CHECK;

struct synth_recording {
    struct synth_file file;
    size_t n;                   /* samples (rows) */
    int n_channels;             /* C */
    double rate_hz;             /* nominal EMG rate (UCI: the Myo's 200; use time) */
    double *emg;                /* [n x C] as stored, see above */
    double *time;               /* [n] or NULL */
    int32_t *label;             /* [n] native label */
    int32_t *rep;               /* [n] or NULL */
    int32_t *stimulus;          /* [n] or NULL (NinaPro) */
    int32_t *repetition;        /* [n] or NULL (NinaPro) */
    double *pose;               /* [n x 20] or NULL (emg2pose) */
    uint8_t *pose_valid;        /* [n] or NULL */
    double *glove;              /* [n x n_glove] or NULL */
    int n_glove;
    double *acc;                /* [n x n_acc] or NULL */
    int n_acc;
    int32_t label_offset;       /* add to non-zero labels for the dataset-global number */
    int32_t unlabelled;         /* native "no gesture" value or SYNTH_NO_UNLABELLED */
    /* identity and split tags */
    char subject_name[32];      /* emg2pose user id, NinaPro "1".., Myo id, "S0".., UCI "01".. */
    char session_name[96];      /* emg2pose session, Myo "<id>-<k>", Kaufmann "D<day>", else "" */
    char stage[64];             /* emg2pose stage name, else "" */
    char side[8];               /* "left"/"right" (emg2pose, Myo), else "" */
    char split[8];              /* emg2pose: train/val/test, else "" */
    char generalization[12];    /* emg2pose: "", user, stage, user_stage */
    int held_out_user;          /* emg2pose 0/1; -1 elsewhere */
    int held_out_stage;         /* emg2pose 0/1; -1 elsewhere */
    int day;                    /* Kaufmann day; -1 elsewhere */
    int model;                  /* generator model that rendered it (synth_params.model) */
    double start, end;          /* emg2pose Unix seconds; NAN elsewhere */
};

/* Renders one file's content (a pure function of p and f). Fills *out;
 * release with synth_recording_free(). */
int  synth_render(struct synth_recording *out, const struct synth_params *p,
                  const struct synth_file *f) MB_MUST_CHECK;
void synth_recording_free(struct synth_recording *r);

/* Like synth_render but cheap: fills only the identity, split tags, n,
 * n_channels, rate and emg2pose start/end; every array stays NULL. */
int  synth_describe(struct synth_recording *out, const struct synth_params *p,
                    const struct synth_file *f) MB_MUST_CHECK;

/* Writes one file under dir (temporary name, then rename). */
int  synth_write_file(const char *dir, const struct synth_params *p,
                      const struct synth_file *f) MB_MUST_CHECK;

/* Writes the whole corpus under dir: every listed file plus
 * emg2pose/metadata.csv. Files are rendered in parallel (OpenMP); HDF5 is
 * written serially. If n_files is not NULL it receives the file count.
 * On failure the first error is also in mb_last_error() of the caller's
 * thread, whichever worker met it; complete files already written stay. */
int  synth_write(const char *dir, const struct synth_params *p, size_t *n_files) MB_MUST_CHECK;

/* Where model 2 records itself: emg2pose files hold the group attribute
 * 'emg2pose/synth_model' ("v2"), NinaPro MAT files the char variable
 * 'synth_model' ("v2"), and synth_write puts a file SYNTH_MODEL ("v2\n") at
 * the output root for the text dialects, which have no place for it. Model 1
 * writes none of them, so its files keep their bytes: absence means v1.
 * synth_write refuses (MB_EINVAL, naming SYNTH_MODEL) to render into a
 * directory whose SYNTH_MODEL records another model. */
#define SYNTH_MODEL_FILE "SYNTH_MODEL"
/* The model of the corpus written under dir: 2 if dir/SYNTH_MODEL says
 * "v2", 1 if there is no such file; MB_EFORMAT (naming the file) if it
 * holds anything else, MB_EIO if it cannot be read. */
int synth_read_model(int *model, const char *dir) MB_MUST_CHECK;

/* Names. Return NULL when out of range. */
const char *synth_device_name(enum synth_device dev);      /* "emg2pose", "ninapro_db1", ... */
const char *synth_e2p_stage_name(int stage);                /* 0..28, the 29 real stage names */
int         synth_e2p_stage_held_out(int stage);            /* 1 for the six held-out stages */
/* Name of native label 'label' of exercise/group 'group' (NinaPro
 * exercise, emg2pose stage index ignored) for a device; "rest" for 0 where
 * 0 is rest. */
const char *synth_label_name(enum synth_device dev, int group, int label);
/* 1 if the gesture behind (dev, group, label) combines primitives that
 * also occur in other gestures (docs/SYNTH.md lists them). */
int         synth_label_is_combination(enum synth_device dev, int group, int label);

#endif
