/* tests/golden/db1_manifest_pins.h - the split manifests `myobench run` writes on
 * the real NinaPro DB1 sample for every protocol (tests/test_pins.c, its plans):
 * { fold-id prefix, folds, SHA-256 of the sorted lines "<fold id> <manifest
 * SHA-256>\n" }. Computed by the pre-arch build (tag pre-arch, library source
 * ed914a06ebdc3bf1) with
 *   MB_PIN_PRINT=1 MB_BIN=<pre-arch>/myobench build/tests/run_unit --filter 'pins/real_db1*'
 * and the same on branch arch (1f08247d9b4fd530): identical. loso holds loso's
 * four folds and loso-k2's two (their ids share the prefix); fewshot-k10 is one
 * refused fold per subject (DB1 has 10 repetitions). zeroshot-seen (added
 * 2026-12-08, after pre-arch) is pinned by this build; every other line is
 * unchanged. */
{ "adapt", 4, "d6cc373f78f2ebf40dba8e223bd23d89cabebba51cd983a5186dac15ec962577" },
{ "fewshot-k1", 8, "eb3053c5700d045ed346c24fa118fe19b795f637d1cae86d648e41e595dfd87c" },
{ "fewshot-k10", 4, "5ae67d52c86b5226144924c43b0225886acda3b1ad980c2471df829bffe24594" },
{ "fewshot-k5", 8, "f7e37fe110295af6e3dfae79ef890179d082f23e0019f5921e291df733c34c82" },
{ "fewshot-p20", 8, "da15cf517ce250f09a8e29add3ca6756c1c6bd8915e6f04370f08ef02871c3b2" },
{ "fewshot-p40", 8, "1e75298a9190315daaa93a42012f96f1f702813d4a8ef7448d22b98525f0558b" },
{ "fewshot-p5", 8, "21ded63243bff7ac723bd0e5b9ed30352ef9b8fbc4596e0e041a20200eb5c24f" },
{ "fewshot-p80", 8, "e237e0bf1fd244d76d7041e9f64fe7d632a0a041532307b5d2709be82943b653" },
{ "loso", 6, "2881ec62961a77e563e5a71a16db21e5481787d1fcfb8fbaf97f22b37a7986d4" },
{ "probe", 4, "2d3d08b4b5280dbd2d64d9d93eee2b310c60d27468b5e1113c11d2bfc248893b" },
{ "probe-unseen", 4, "6598599915d95c75a8aa815133e8867f3cac3d993355c59db80167dca610cf28" },
{ "within", 4, "7a979e4edfcf4c2f352cadf9f8a67c5001186d73af88a2b938f052b94113e3fc" },
{ "zeroshot-gestures", 4, "d3ca94a51282f2261ca66d6cd64995ceb6068d6b0aec51cdc2a55fbe92951566" },
{ "zeroshot-seen", 4, "7c3804f36aecd4da00b16d1534f61ad180a9e370192a98c47e4291fd00fd5d19" },
{ "zeroshot-users", 4, "e6c1166bfc8ef44596a7bbc6823e0354e19cb148e764cbeab9a0952f84a29cad" },
