/* synth/vocab.c - the gestures of every generated corpus, as mixes of the
 * ten joint-motion primitives {thumb flexion, thumb abduction, index,
 * middle, ring, little flexion, finger spread, wrist flexion, wrist radial
 * deviation, pronation}. Names follow the real protocols (NinaPro
 * exercises, Myo readings, Kaufmann, UCI, the 29 emg2pose stages). */
#include <stddef.h>

#include "synth/internal.h"

/*                         TF    TA     I     M     R     P    SP    WF    WD  PRON */
#define FIST               .7f,  .2f,   1,    1,    1,    1,    0,    0,    0,    0
#define REST0               0,    0,    0,    0,    0,    0,    0,    0,    0,    0

/* NinaPro exercise 1 (DB1/DB5 E1): basic finger movements. */
static const struct synth_gesture ex1[12] = {
    { "index flexion",               {  0,    0,    1,    0,    0,    0,    0,    0,    0,    0 }, 0 },
    { "index extension",             {  0,    0, -.6f,    0,    0,    0,    0,    0,    0,    0 }, 0 },
    { "middle flexion",              {  0,    0,    0,    1,    0,    0,    0,    0,    0,    0 }, 0 },
    { "middle extension",            {  0,    0,    0, -.6f,    0,    0,    0,    0,    0,    0 }, 0 },
    { "ring flexion",                {  0,    0,    0,    0,    1,    0,    0,    0,    0,    0 }, 0 },
    { "ring extension",              {  0,    0,    0,    0, -.6f,    0,    0,    0,    0,    0 }, 0 },
    { "little finger flexion",       {  0,    0,    0,    0,    0,    1,    0,    0,    0,    0 }, 0 },
    { "little finger extension",     {  0,    0,    0,    0,    0, -.6f,    0,    0,    0,    0 }, 0 },
    { "thumb adduction",             {  0, -.7f,    0,    0,    0,    0,    0,    0,    0,    0 }, 0 },
    { "thumb abduction",             {  0,    1,    0,    0,    0,    0,    0,    0,    0,    0 }, 0 },
    { "thumb flexion",               {  1,    0,    0,    0,    0,    0,    0,    0,    0,    0 }, 0 },
    { "thumb extension",             {-.7f,   0,    0,    0,    0,    0,    0,    0,    0,    0 }, 0 },
};

/* Exercise 2 (DB1/DB5 E2, DB2 E1): hand postures and wrist movements. */
static const struct synth_gesture ex2[17] = {
    { "thumb up",                                {-.5f, .3f,   1,    1,    1,    1,    0,    0,    0,    0 }, 0 },
    { "extension of index and middle, flexion of the others",
                                                 { .7f,  0, -.3f, -.3f,    1,    1,  .4f,    0,    0,    0 }, 0 },
    { "flexion of ring and little finger, extension of the others",
                                                 {-.3f,  0, -.3f, -.3f,    1,    1,    0,    0,    0,    0 }, 0 },
    { "thumb opposing base of little finger",    { .8f, .8f,   0,    0,    0,  .3f,    0,    0,    0,    0 }, 0 },
    { "abduction of all fingers",                {  0,  .4f, -.2f, -.2f, -.2f, -.2f,    1,    0,    0,    0 }, 0 },
    { "fingers flexed together in fist",         { FIST }, 0 },
    { "pointing index",                          { .7f,  0, -.2f,    1,    1,    1,    0,    0,    0,    0 }, 0 },
    { "adduction of extended fingers",           {  0, -.3f, -.3f, -.3f, -.3f, -.3f, -.7f,    0,    0,    0 }, 0 },
    { "wrist supination (middle finger axis)",   {  0,    0,    0,    0,    0,    0,    0,    0,    0,   -1 }, 0 },
    { "wrist pronation (middle finger axis)",    {  0,    0,    0,    0,    0,    0,    0,    0,    0,    1 }, 0 },
    { "wrist supination (little finger axis)",   {  0,    0,    0,    0,    0,    0,    0,    0, -.3f, -.8f }, 0 },
    { "wrist pronation (little finger axis)",    {  0,    0,    0,    0,    0,    0,    0,    0, -.3f,  .8f }, 0 },
    { "wrist flexion",                           {  0,    0,    0,    0,    0,    0,    0,    1,    0,    0 }, 0 },
    { "wrist extension",                         {  0,    0,    0,    0,    0,    0,    0,   -1,    0,    0 }, 0 },
    { "wrist radial deviation",                  {  0,    0,    0,    0,    0,    0,    0,    0,    1,    0 }, 0 },
    { "wrist ulnar deviation",                   {  0,    0,    0,    0,    0,    0,    0,    0,   -1,    0 }, 0 },
    { "wrist extension with closed hand",        { .7f, .2f,   1,    1,    1,    1,    0, -.8f,    0,    0 }, 0 },
};

/* Exercise 3 (DB1/DB5 E3, DB2 E2): grasps and functional movements. */
static const struct synth_gesture ex3[23] = {
    { "large diameter grasp",          { .5f, .6f, .6f, .6f, .6f, .6f,   0,   0,   0,   0 }, 0 },
    { "small diameter grasp",          { .7f, .5f, .9f, .9f, .9f, .9f,   0,   0,   0,   0 }, 0 },
    { "fixed hook grasp",              {-.2f,   0, .8f, .8f, .8f, .8f,   0,   0,   0,   0 }, 0 },
    { "index finger extension grasp",  { .6f, .3f,-.2f, .9f, .9f, .9f,   0,   0,   0,   0 }, 0 },
    { "medium wrap",                   { .6f, .6f,.75f,.75f,.75f,.75f,   0,   0,   0,   0 }, 0 },
    { "ring grasp",                    { .7f, .4f, .8f, .5f, .5f, .5f,   0,   0,   0,   0 }, 0 },
    { "prismatic four fingers grasp",  { .4f, .8f, .5f, .5f, .5f, .5f,   0,   0,   0,   0 }, 0 },
    { "stick grasp",                   { .3f,-.3f, .9f, .9f, .9f, .9f,   0,   0,   0,   0 }, 0 },
    { "writing tripod grasp",          { .5f, .6f, .6f, .6f, .3f, .3f,   0,   0,   0,   0 }, 0 },
    { "power sphere grasp",            { .5f, .7f, .6f, .6f, .6f, .6f, .6f,   0,   0,   0 }, 0 },
    { "three finger sphere grasp",     { .5f, .7f, .6f, .6f,-.2f,-.2f, .4f,   0,   0,   0 }, 0 },
    { "precision sphere grasp",        { .3f, .8f, .4f, .4f, .4f, .4f, .7f,   0,   0,   0 }, 0 },
    { "tripod grasp",                  { .6f, .7f, .7f, .7f,   0,   0,   0,   0,   0,   0 }, 0 },
    { "prismatic pinch grasp",         { .6f, .6f, .6f,   0,   0,   0,   0,   0,   0,   0 }, 0 },
    { "tip pinch grasp",               { .8f, .7f, .8f,   0,   0,   0,   0,   0,   0,   0 }, 0 },
    { "quadpod grasp",                 { .6f, .7f, .7f, .7f, .7f,   0,   0,   0,   0,   0 }, 0 },
    { "lateral grasp",                 { .5f,-.5f, .8f, .8f, .8f, .8f,   0,   0,   0,   0 }, 0 },
    { "parallel extension grasp",      {   0, .8f, .2f, .2f, .2f, .2f,   0,   0,   0,   0 }, 0 },
    { "extension type grasp",          {   0,   1,-.2f,-.2f,-.2f,-.2f, .5f,   0,   0,   0 }, 0 },
    { "power disk grasp",              { .4f, .8f, .5f, .5f, .5f, .5f, .8f,   0,   0,   0 }, 0 },
    { "open a bottle with a tripod grasp", { .6f, .7f, .7f, .7f,   0,   0,   0,   0,   0, .5f }, DYN_ROTATE },
    { "turn a screw",                  { .8f, .7f, .8f,   0,   0,   0,   0,   0,   0, .4f }, DYN_ROTATE },
    { "cut something",                 { .7f, .2f, .9f, .9f, .9f, .9f,   0, .3f,   0,   0 }, DYN_FLEXOSC },
};

/* DB2 exercise 3: force patterns (finger presses). */
static const struct synth_gesture db2ex3[9] = {
    { "thumb flexion force",           {   1,   0,   0,   0,   0,   0,   0,   0,   0,   0 }, 0 },
    { "index flexion force",           {   0,   0,   1,   0,   0,   0,   0,   0,   0,   0 }, 0 },
    { "middle flexion force",          {   0,   0,   0,   1,   0,   0,   0,   0,   0,   0 }, 0 },
    { "ring flexion force",            {   0,   0,   0,   0,   1,   0,   0,   0,   0,   0 }, 0 },
    { "little finger flexion force",   {   0,   0,   0,   0,   0,   1,   0,   0,   0,   0 }, 0 },
    { "thumb abduction force",         {   0,   1,   0,   0,   0,   0,   0,   0,   0,   0 }, 0 },
    { "index and little flexion force",{   0,   0,   1,   0,   0,   1,   0,   0,   0,   0 }, 0 },
    { "ring and little flexion force", {   0,   0,   0,   0,   1,   1,   0,   0,   0,   0 }, 0 },
    { "all fingers flexion force",     {  .8f,  0,   1,   1,   1,   1,   0,   0,   0,   0 }, 0 },
};

/* myo-readings-dataset labels 1..7 (0 = hibernation). */
static const struct synth_gesture myo[7] = {
    { "wrist flexion",                 {   0,   0,   0,   0,   0,   0,   0,   1,   0,   0 }, 0 },
    { "wrist extension",               {   0,   0,   0,   0,   0,   0,   0,  -1,   0,   0 }, 0 },
    { "wrist radial deviation",        {   0,   0,   0,   0,   0,   0,   0,   0,   1,   0 }, 0 },
    { "wrist ulnar deviation",         {   0,   0,   0,   0,   0,   0,   0,   0,  -1,   0 }, 0 },
    { "wrist pronation",               {   0,   0,   0,   0,   0,   0,   0,   0,   0,   1 }, 0 },
    { "wrist supination",              {   0,   0,   0,   0,   0,   0,   0,   0,   0,  -1 }, 0 },
    { "fist",                          { FIST }, 0 },
};

/* Kaufmann MultiDay classes 1..10 (0 = no motion). */
static const struct synth_gesture kauf[10] = {
    { "wrist extension",               {   0,   0,   0,   0,   0,   0,   0,  -1,   0,   0 }, 0 },
    { "wrist flexion",                 {   0,   0,   0,   0,   0,   0,   0,   1,   0,   0 }, 0 },
    { "wrist adduction",               {   0,   0,   0,   0,   0,   0,   0,   0,  -1,   0 }, 0 },
    { "wrist abduction",               {   0,   0,   0,   0,   0,   0,   0,   0,   1,   0 }, 0 },
    { "wrist supination",              {   0,   0,   0,   0,   0,   0,   0,   0,   0,  -1 }, 0 },
    { "wrist pronation",               {   0,   0,   0,   0,   0,   0,   0,   0,   0,   1 }, 0 },
    { "hand open",                     {-.5f, .6f,-.5f,-.5f,-.5f,-.5f, .6f,   0,   0,   0 }, 0 },
    { "hand closed",                   { FIST }, 0 },
    { "key grip",                      { .5f,-.5f, .8f, .8f, .8f, .8f,   0,   0,   0,   0 }, 0 },
    { "index point",                   { .7f,   0,-.2f,   1,   1,   1,   0,   0,   0,   0 }, 0 },
};

/* UCI classes 2..7 (1 = rest, 0 = unmarked); index 0 here is class 2. */
static const struct synth_gesture uci[6] = {
    { "hand clenched in a fist",       { FIST }, 0 },
    { "wrist flexion",                 {   0,   0,   0,   0,   0,   0,   0,   1,   0,   0 }, 0 },
    { "wrist extension",               {   0,   0,   0,   0,   0,   0,   0,  -1,   0,   0 }, 0 },
    { "radial deviation",              {   0,   0,   0,   0,   0,   0,   0,   0,   1,   0 }, 0 },
    { "ulnar deviation",               {   0,   0,   0,   0,   0,   0,   0,   0,  -1,   0 }, 0 },
    { "extended palm",                 {-.4f, .5f,-.5f,-.5f,-.5f,-.5f, .3f,   0,   0,   0 }, 0 },
};

static const struct synth_gesture uci_rest = { "hand at rest", { REST0 }, 0 };

/* The 29 emg2pose stages (formats.md §2.6), each a short repertoire of
 * moves cycled through during the stage. The six held-out stages (LibEMG's
 * EMG2POSEUD set) use only primitives that the training stages also use,
 * in new combinations. */
#define M(n, ...) { n, { __VA_ARGS__ }, 0 }
#define MD(n, d, ...) { n, { __VA_ARGS__ }, d }
static const struct synth_stage stages[SYNTH_N_STAGES] = {
    { "AllFingerPinchesThumbSwipeThumbRotate", 0, 4, {
        M("index pinch",  .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, 0),
        M("middle pinch", .8f, .8f, 0, .8f, 0, 0, 0, 0, 0, 0),
        M("ring pinch",   .8f, .9f, 0, 0, .8f, 0, 0, 0, 0, 0),
        MD("thumb rotate", DYN_WIGGLE, .3f, .6f, 0, 0, 0, 0, 0, 0, 0, 0) } },
    { "CoffeePanicPete", 0, 3, {
        M("mug grasp", .5f, .6f, .7f, .7f, .7f, .7f, 0, 0, 0, 0),
        MD("lift and tilt", DYN_ROTATE, .5f, .6f, .7f, .7f, .7f, .7f, 0, .2f, 0, .4f),
        M("release", -.2f, .4f, -.2f, -.2f, -.2f, -.2f, .3f, 0, 0, 0) } },
    { "CountingUpDownFaceSideAway", 1, 5, {
        M("one",   .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, .5f),
        M("two",   .7f, 0, -.2f, -.2f, 1, 1, .3f, 0, 0, .5f),
        M("three", .7f, 0, -.2f, -.2f, -.2f, 1, .3f, 0, 0, .5f),
        M("four",  .7f, 0, -.2f, -.2f, -.2f, -.2f, .4f, 0, 0, .5f),
        M("five",  -.3f, .6f, -.2f, -.2f, -.2f, -.2f, .6f, 0, 0, .5f) } },
    { "CountingUpDownFingerWigglingSpreading", 1, 4, {
        M("one",   .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, 0),
        M("three", .7f, 0, -.2f, -.2f, -.2f, 1, .3f, 0, 0, 0),
        MD("wiggle", DYN_WIGGLE, 0, .3f, .3f, .3f, .3f, .3f, 0, 0, 0, 0),
        M("spread", -.2f, .5f, -.2f, -.2f, -.2f, -.2f, 1, 0, 0, 0) } },
    { "DoorknobFingerGraspFistGrab", 0, 3, {
        MD("doorknob", DYN_ROTATE, .5f, .7f, .6f, .6f, .6f, .6f, .5f, 0, 0, .6f),
        M("finger grasp", .6f, .6f, .6f, .6f, 0, 0, 0, 0, 0, 0),
        M("fist grab", FIST) } },
    { "FastPongFronthandBackhandThrowing", 0, 3, {
        MD("fronthand", DYN_FLEXOSC, .5f, .3f, .8f, .8f, .8f, .8f, 0, .6f, 0, 0),
        MD("backhand", DYN_FLEXOSC, .5f, .3f, .8f, .8f, .8f, .8f, 0, -.6f, 0, 0),
        M("throw", -.3f, .3f, -.3f, -.3f, -.3f, -.3f, .4f, .5f, 0, 0) } },
    { "FingerAbductionSeries", 0, 3, {
        M("spread", 0, .4f, -.2f, -.2f, -.2f, -.2f, 1, 0, 0, 0),
        M("adduct", 0, -.3f, -.3f, -.3f, -.3f, -.3f, -.7f, 0, 0, 0),
        M("thumb out", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0) } },
    { "FingerFreeform", 1, 4, {
        MD("free wiggle", DYN_WIGGLE, .3f, .2f, .4f, .4f, .4f, .4f, .3f, 0, 0, 0),
        M("pinch-spread", .6f, .6f, .6f, 0, 0, 0, .5f, 0, 0, 0),
        M("ring curl", 0, 0, -.2f, -.2f, 1, .8f, 0, 0, 0, 0),
        M("claw", .4f, .3f, .6f, .6f, .6f, .6f, .4f, 0, 0, 0) } },
    { "FingerPinchesSingleFingerPinchesMultiple", 0, 4, {
        M("index pinch", .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, 0),
        M("little pinch", .8f, 1, 0, 0, 0, .8f, 0, 0, 0, 0),
        M("two finger pinch", .8f, .8f, .7f, .7f, 0, 0, 0, 0, 0, 0),
        M("four finger pinch", .8f, .8f, .6f, .6f, .6f, .6f, 0, 0, 0, 0) } },
    { "FingerTouchPalmClapmrburns", 0, 3, {
        M("touch palm", .6f, .6f, 1, 1, 1, 1, 0, 0, 0, 0),
        MD("clap", DYN_FLEXOSC, -.3f, .2f, -.3f, -.3f, -.3f, -.3f, 0, -.4f, 0, 0),
        MD("mr burns", DYN_WIGGLE, .4f, .4f, .5f, .5f, .5f, .5f, 0, 0, 0, 0) } },
    { "FingerWigglingSpreading", 0, 2, {
        MD("wiggle", DYN_WIGGLE, 0, .3f, .3f, .3f, .3f, .3f, 0, 0, 0, 0),
        M("spread", -.2f, .5f, -.2f, -.2f, -.2f, -.2f, 1, 0, 0, 0) } },
    { "GraspPunchCloseFar", 0, 3, {
        M("grasp", .6f, .6f, .8f, .8f, .8f, .8f, 0, 0, 0, 0),
        M("punch", FIST),
        M("punch extended", .7f, .2f, 1, 1, 1, 1, 0, -.4f, 0, 0) } },
    { "HandClawGraspFlicks", 0, 4, {
        M("claw", .4f, .3f, .6f, .6f, .6f, .6f, .4f, 0, 0, 0),
        M("grasp", .6f, .6f, .8f, .8f, .8f, .8f, 0, 0, 0, 0),
        M("index flick", .7f, .7f, -.4f, 0, 0, 0, 0, 0, 0, 0),
        M("middle flick", .7f, .7f, 0, -.4f, 0, 0, 0, 0, 0, 0) } },
    { "HandDeskSeparateClaspedChest", 0, 3, {
        M("flat hand", 0, .2f, -.3f, -.3f, -.3f, -.3f, 0, -.3f, 0, 0),
        M("clasped", .5f, .4f, .7f, .7f, .7f, .7f, 0, 0, 0, -.3f),
        M("chest", .2f, .2f, .2f, .2f, .2f, .2f, 0, .4f, 0, 0) } },
    { "HandOverHandAllFingerPinchesThumbSwipeThumbRotate", 0, 3, {
        M("index pinch", .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, -.5f),
        M("middle pinch", .8f, .8f, 0, .8f, 0, 0, 0, 0, 0, -.5f),
        MD("thumb swipe", DYN_WIGGLE, .3f, .6f, .3f, .3f, 0, 0, 0, 0, 0, -.5f) } },
    { "HandOverHandCountingUpDownFingerWigglingSpreading", 1, 4, {
        M("one",   .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, -.5f),
        M("two",   .7f, 0, -.2f, -.2f, 1, 1, .3f, 0, 0, -.5f),
        MD("wiggle", DYN_WIGGLE, 0, .3f, .3f, .3f, .3f, .3f, 0, 0, 0, -.5f),
        M("spread", -.2f, .5f, -.2f, -.2f, -.2f, -.2f, 1, 0, 0, -.5f) } },
    { "unconstrained", 0, 3, {
        MD("free", DYN_WIGGLE, .3f, .3f, .3f, .3f, .3f, .3f, .2f, .2f, 0, 0),
        M("half fist", .4f, .2f, .5f, .5f, .5f, .5f, 0, 0, 0, .3f),
        M("open", -.2f, .4f, -.2f, -.2f, -.2f, -.2f, .4f, -.2f, 0, 0) } },
    { "HookEmHornsOKScissors", 1, 3, {
        M("hook em horns", .7f, 0, -.2f, 1, 1, -.2f, .3f, 0, 0, 0),
        M("ok", .6f, .6f, .8f, -.2f, -.2f, -.2f, .2f, 0, 0, 0),
        M("scissors", .7f, 0, -.2f, -.2f, 1, 1, .6f, 0, 0, 0) } },
    { "IndexPinchesMiddlePinchesThumbswipes", 0, 3, {
        M("index pinch", .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, 0),
        M("middle pinch", .8f, .8f, 0, .8f, 0, 0, 0, 0, 0, 0),
        MD("thumb swipe", DYN_WIGGLE, .3f, .6f, .3f, .3f, 0, 0, 0, 0, 0, 0) } },
    { "IndividualFingerPointingSnap", 0, 4, {
        M("point index", .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, 0),
        M("point middle", .7f, 0, 1, -.2f, 1, 1, 0, 0, 0, 0),
        M("point little", .7f, 0, 1, 1, 1, -.2f, 0, 0, 0, 0),
        M("snap", .9f, .8f, 0, .9f, .5f, .5f, 0, 0, 0, 0) } },
    { "OneHandedFreeStyle", 0, 3, {
        MD("free", DYN_WIGGLE, .3f, .3f, .3f, .3f, .3f, .3f, .2f, 0, .2f, 0),
        M("tripod", .6f, .7f, .7f, .7f, 0, 0, 0, 0, 0, 0),
        M("flat", -.2f, .3f, -.3f, -.3f, -.3f, -.3f, .3f, 0, 0, 0) } },
    { "PlayBlocksChess", 0, 3, {
        M("tip pinch", .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, 0),
        M("tripod", .6f, .7f, .7f, .7f, 0, 0, 0, 0, 0, 0),
        M("block grasp", .5f, .7f, .6f, .6f, .6f, .6f, .3f, 0, 0, 0) } },
    { "PokeDrawPinchRotateclosefar", 0, 3, {
        M("poke", .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, 0),
        MD("draw", DYN_FLEXOSC, .6f, .6f, .6f, .6f, .3f, .3f, 0, .3f, 0, 0),
        MD("pinch rotate", DYN_ROTATE, .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, .4f) } },
    { "PokePinchCloseFar", 0, 2, {
        M("poke", .7f, 0, -.2f, 1, 1, 1, 0, 0, 0, 0),
        M("pinch", .8f, .7f, .8f, 0, 0, 0, 0, 0, 0, 0) } },
    { "ShakaVulcanPeace", 1, 3, {
        M("shaka", -.3f, .8f, 1, 1, 1, -.2f, .4f, 0, 0, 0),
        M("vulcan", 0, .4f, -.2f, -.2f, -.2f, -.2f, .9f, 0, 0, 0),
        M("peace", .7f, 0, -.2f, -.2f, 1, 1, .6f, 0, 0, 0) } },
    { "ThumbsSwipesWholeHand", 0, 3, {
        MD("thumb swipe", DYN_WIGGLE, .3f, .6f, .3f, .3f, 0, 0, 0, 0, 0, 0),
        M("thumb out", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        MD("whole hand swipe", DYN_FLEXOSC, 0, .2f, -.2f, -.2f, -.2f, -.2f, .3f, 0, .5f, 0) } },
    { "ThumbsUpDownThumbRotationsCWCCWP", 0, 3, {
        M("thumbs up", -.5f, .3f, 1, 1, 1, 1, 0, 0, 0, 0),
        M("thumbs down", -.5f, .3f, 1, 1, 1, 1, 0, 0, 0, 1),
        MD("thumb rotation", DYN_WIGGLE, .4f, .7f, 1, 1, 1, 1, 0, 0, 0, 0) } },
    { "TwoHandedFreeStyle", 0, 3, {
        MD("free", DYN_WIGGLE, .3f, .3f, .3f, .3f, .3f, .3f, .2f, 0, 0, .2f),
        M("clasp", .5f, .4f, .7f, .7f, .7f, .7f, 0, 0, 0, 0),
        M("open", -.2f, .4f, -.2f, -.2f, -.2f, -.2f, .4f, 0, 0, 0) } },
    { "WristFlexionAbduction", 0, 4, {
        M("wrist flexion", 0, 0, 0, 0, 0, 0, 0, 1, 0, 0),
        M("wrist extension", 0, 0, 0, 0, 0, 0, 0, -1, 0, 0),
        M("radial deviation", 0, 0, 0, 0, 0, 0, 0, 0, 1, 0),
        M("ulnar deviation", 0, 0, 0, 0, 0, 0, 0, 0, -1, 0) } },
};
#undef M
#undef MD

static const struct synth_gesture *nina_table(enum synth_device dev, int ex, int *n)
{
    if (dev == SYNTH_DB2) {
        switch (ex) {
        case 1: *n = 17; return ex2;
        case 2: *n = 23; return ex3;
        case 3: *n = 9;  return db2ex3;
        default: return NULL;
        }
    }
    switch (ex) {
    case 1: *n = 12; return ex1;
    case 2: *n = 17; return ex2;
    case 3: *n = 23; return ex3;
    default: return NULL;
    }
}

int synth_vocab_count(enum synth_device dev, int group)
{
    int n = 0;
    switch (dev) {
    case SYNTH_DB1: case SYNTH_DB2: case SYNTH_DB5:
        return nina_table(dev, group, &n) ? n : 0;
    case SYNTH_MYO:      return 7;
    case SYNTH_KAUFMANN: return 10;
    case SYNTH_UCI:      return 7;   /* classes 1..7, 1 = rest */
    default:             return 0;
    }
}

int synth_vocab_nina_offset(enum synth_device dev, int exercise)
{
    int off = 0, n;
    for (int e = 1; e < exercise; e++)
        if (nina_table(dev, e, &n))
            off += n;
    return off;
}

const struct synth_gesture *synth_vocab_gesture(enum synth_device dev, int group, int label)
{
    int n = 0;
    if (label < 1)
        return NULL;
    switch (dev) {
    case SYNTH_DB1: case SYNTH_DB2: case SYNTH_DB5: {
        const struct synth_gesture *t = nina_table(dev, group, &n);
        return t && label <= n ? &t[label - 1] : NULL;
    }
    case SYNTH_MYO:      return label <= 7 ? &myo[label - 1] : NULL;
    case SYNTH_KAUFMANN: return label <= 10 ? &kauf[label - 1] : NULL;
    case SYNTH_UCI:
        if (label == 1)
            return &uci_rest;
        return label <= 7 ? &uci[label - 2] : NULL;
    default:             return NULL;
    }
}

const struct synth_stage *synth_stage_get(int stage)
{
    return stage >= 0 && stage < SYNTH_N_STAGES ? &stages[stage] : NULL;
}

const char *synth_e2p_stage_name(int stage)
{
    const struct synth_stage *s = synth_stage_get(stage);
    return s ? s->name : NULL;
}

int synth_e2p_stage_held_out(int stage)
{
    const struct synth_stage *s = synth_stage_get(stage);
    return s ? s->held_out : 0;
}

int synth_gesture_is_combination(const struct synth_gesture *g)
{
    int k = 0;
    for (int i = 0; i < SYNTH_N_PRIM; i++)
        k += g->c[i] != 0.0f;
    return k >= 2;
}

const char *synth_label_name(enum synth_device dev, int group, int label)
{
    if (dev == SYNTH_EMG2POSE)
        return synth_e2p_stage_name(label);
    if (dev == SYNTH_UCI && label == 0)
        return "unmarked";
    if (label == 0) {
        switch (dev) {
        case SYNTH_MYO:      return "hibernation";
        case SYNTH_KAUFMANN: return "no motion";
        default:             return "rest";
        }
    }
    if (dev == SYNTH_DB2 || dev == SYNTH_DB5)
        for (int e = 3; e >= 1; e--) {
            int off = synth_vocab_nina_offset(dev, e);
            if (label > off) {
                const struct synth_gesture *g = synth_vocab_gesture(dev, e, label - off);
                return g ? g->name : NULL;
            }
        }
    const struct synth_gesture *g = synth_vocab_gesture(dev, group, label);
    return g ? g->name : NULL;
}

int synth_label_is_combination(enum synth_device dev, int group, int label)
{
    if (dev == SYNTH_EMG2POSE) {
        const struct synth_stage *s = synth_stage_get(label);
        if (!s)
            return 0;
        for (int i = 0; i < s->n_moves; i++)
            if (synth_gesture_is_combination(&s->moves[i]))
                return 1;
        return 0;
    }
    if (dev == SYNTH_DB2 || dev == SYNTH_DB5)
        for (int e = 3; e >= 1; e--) {
            int off = synth_vocab_nina_offset(dev, e);
            if (label > off) {
                group = e;
                label -= off;
                break;
            }
        }
    const struct synth_gesture *g = synth_vocab_gesture(dev, group, label);
    return g ? synth_gesture_is_combination(g) : 0;
}
