/* tests/golden/methods_pins.h - pinned numbers of the neural methods, one table per
 * OpenBLAS kernel (tests/test_methods.c, pinned_numbers_of_every_neural_method):
 * { parameter hash, SHA-256 of the probabilities, SHA-256 of the zero-shot
 * predictions, bits of three probabilities }, in the order of PIN_CASES. Computed
 * by branch 'arch' (3a618d7), before the neural methods got one file each, with
 * MB_PIN_PRINT=1 [OPENBLAS_CORETYPE=K] build/tests/run_unit --filter 'methods/pinned*'. */
{ "Cooperlake", {
    { "254bcba42294f4237dca080549a47aaf1696b45fe3d300bb25fec4ee6b38c19b",
      "bf312ae8cbb7474fe93c372917730079a44d174abf42f80f3d4aa67dece3b0e6",
      "", { 0x3eca4bf1u, 0x3cdbb827u, 0x3f046fd4u } },   /* emg-mae mae_steps=20,batch=32 */
    { "115688fa7f41990ad5a7789050f9040b7ed205fe3a0b1bac41a5f2eca0381e3a",
      "a052dae189a1b5ea5499f273eaf5493bbb8c2dbeef4144814ec0807e314ee8e2",
      "", { 0x3f3ab89cu, 0x39be129fu, 0x3f47d205u } },   /* pose-mae mae_steps=20,batch=32 */
    { "fe2455802e61bddd2520b031582f9fb9af5f83e061d62b71fc95893769bd9374",
      "c9a415e1dc101993d025d4a90748786b7d6cb6010a707f0477eb72d376064efa",
      "ad1980430a30a1ea802114a4484a57925a98c20f32a5bcbf2b07f3b14a70b00e", { 0x3f7341ecu, 0x39d8268au, 0x3f7ef255u } },   /* pose-upper-bound mae_steps=20,batch=32 */
    { "3efa8a347cb3a153d61241ee8621b6b2149137abb00b2b133233512f84bc993b",
      "58fa246272cde3b57f85625e0afa6545767fc4a69e2d438ca311055ab9c484c6",
      "a838cb5969d0711eba83f0bac212bf37f585727f22c7cd6e019997192c8b6a28", { 0x3f689c9fu, 0x39486e60u, 0x3f5e9613u } },   /* cpep mae_steps=20,align_steps=20,batch=32 */
    { "21e25e8ad20466a479ff0d8f7e63977418c4b3dfca8008832f2b8672a647d31f",
      "5c48d7bee663cde468764547c2718c3f5f09a8a5dbaa02ef7e5e370d0fdea44a",
      "1d55a0a7cad5d61dd67055b8d8f72d9dd4186b117f4b977dfce980858c43ec09", { 0x3f4204f2u, 0x3c0e2b0eu, 0x3f46f606u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_emg_pretrain=1,freeze_emg=1,learn_temp=0,cls=0 */
    { "43f250986c08f9fffe40971859328ea2f379774bce3ec5b3a01260577263193a",
      "8b3f19bbefbb45f549e5b7c028c1cdc79f64dc3ca7db079b7d87227c01fe21f9",
      "9a796d3a56e25ae18ae505a12f7bc10826f550822685bce14124e317967cee15", { 0x3f1aaf74u, 0x3b00cbf2u, 0x3f29ffe6u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_pose_pretrain=1,knn=3,temp=0.2 */
    { "cc06aa7ded59782965a77d0b02761b0c4906fde735fb4d6cc558e2d62e69ef94",
      "0b1be903ba09f8bda0fc1bb616dbbfc849cf1542ad716a9ed6f874a7056fb172",
      "", { 0x3f517971u, 0x3acf9415u, 0x3f50d2fcu } },   /* emg2pose-tds mae_steps=20,batch=32 */
    { "c0ffd99c7ce22ad28d221a9e377fc06dab19212b81a59ec0edfc7753a9d03c46",
      "8bd9156a9177fe4398ac059ec351e7115fdb15680bea4bb5aa771eb08afd951d",
      "", { 0x3e540bb0u, 0x3da6311fu, 0x3e2ccbbcu } },   /* emg2pose-tds mae_steps=20,batch=32,width=16,rectify=0 */
} },
{ "Prescott", {
    { "21a0fbb8ac0991e1180c1bba4e42c4e46c799453eb57956f4c6a3da38a2d5ef5",
      "84066bae006b0d9fc1019adae7ae741f9a4014fe9723c98b31d1fe8f2c15f940",
      "", { 0x3eca4df5u, 0x3cdbbb91u, 0x3f047018u } },   /* emg-mae mae_steps=20,batch=32 */
    { "fb5ed1d86194fd335d3d1832c582ae77ef904edbfc97368cf28f578d98e21fc8",
      "ec39f8a38a51e69ca84b307473d6e66d0ee37432356ad6171b4c85a9acf16e30",
      "", { 0x3f3ab8f1u, 0x39bdfea3u, 0x3f47d280u } },   /* pose-mae mae_steps=20,batch=32 */
    { "f0310412287b5a570aedb1ea039f080f1a93d427d1281cd14f1556ffd19a1131",
      "5513f024ea10dbdac27e2eb1d4aeda3c58246f4f419abcd12c3c9c570d8ff04f",
      "ad1980430a30a1ea802114a4484a57925a98c20f32a5bcbf2b07f3b14a70b00e", { 0x3f7341d9u, 0x39d82e81u, 0x3f7ef258u } },   /* pose-upper-bound mae_steps=20,batch=32 */
    { "33ca6aa0ea3a70877734f41fc642782818bc3a812f986a34e7269a188ec6927d",
      "76f3ac2b2e47f674edc3deb7bf72a8f78c669325f08ae778947c6593e913712b",
      "a838cb5969d0711eba83f0bac212bf37f585727f22c7cd6e019997192c8b6a28", { 0x3f689e7du, 0x394887e4u, 0x3f5e9562u } },   /* cpep mae_steps=20,align_steps=20,batch=32 */
    { "3cbc9d317bea26f1bab12597a4194dd100c17ab87706609b4fca2fea41f841d8",
      "a798c3e3f9de8f89b4f47b787c10a2369df8da18b19e7e30d2c79d0b8b1b46f0",
      "1d55a0a7cad5d61dd67055b8d8f72d9dd4186b117f4b977dfce980858c43ec09", { 0x3f4204bbu, 0x3c0e2eccu, 0x3f46f43fu } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_emg_pretrain=1,freeze_emg=1,learn_temp=0,cls=0 */
    { "be15f56854ff6567e001cffaf10ec570f81308d0bf8cfc7e7f8a9cd15f39e0b1",
      "66a22bd9c49e5716db6480c745f0c6d06009cf934ef937b488e1d8b88adf81c9",
      "9a796d3a56e25ae18ae505a12f7bc10826f550822685bce14124e317967cee15", { 0x3f1ab10fu, 0x3b00ca91u, 0x3f2a0121u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_pose_pretrain=1,knn=3,temp=0.2 */
    { "957894aad18fd0d72e237229e8066a6cb67abf3b468bc721367558d6983d7591",
      "4c8ca378675004e921da84634429421240b89196dbeea77c832b3b9b7f75aba2",
      "", { 0x3f517aa6u, 0x3acfabb2u, 0x3f50d34bu } },   /* emg2pose-tds mae_steps=20,batch=32 */
    { "271ba590e632a21a850e9495fb0c38fd6e0ece2652c9b03e4a37f631a76ed750",
      "60bf10d484bf5375bd14a99c926816175697022ed1c787820b985473ba22b44b",
      "", { 0x3e540bafu, 0x3da63121u, 0x3e2ccbbbu } },   /* emg2pose-tds mae_steps=20,batch=32,width=16,rectify=0 */
} },
{ "SkylakeX", {
    { "ead65e4fe5b0c09d589c61f18ddf026a41e69a6242ab32df3df9cb8e06209efe",
      "aa4393aa65bab1a2627c59af4ac60655db5cfd400b75367a44143af1092e2c13",
      "", { 0x3eca4c1cu, 0x3cdbb84au, 0x3f046fe0u } },   /* emg-mae mae_steps=20,batch=32 */
    { "115688fa7f41990ad5a7789050f9040b7ed205fe3a0b1bac41a5f2eca0381e3a",
      "a052dae189a1b5ea5499f273eaf5493bbb8c2dbeef4144814ec0807e314ee8e2",
      "", { 0x3f3ab89cu, 0x39be129fu, 0x3f47d205u } },   /* pose-mae mae_steps=20,batch=32 */
    { "fe2455802e61bddd2520b031582f9fb9af5f83e061d62b71fc95893769bd9374",
      "c9a415e1dc101993d025d4a90748786b7d6cb6010a707f0477eb72d376064efa",
      "ad1980430a30a1ea802114a4484a57925a98c20f32a5bcbf2b07f3b14a70b00e", { 0x3f7341ecu, 0x39d8268au, 0x3f7ef255u } },   /* pose-upper-bound mae_steps=20,batch=32 */
    { "9f369755e0cd86d94f129af0b5ff845cb331b309b6f2d55cd792d5c3d65400d7",
      "f3d13758333af2dcc8abc478f526ff15e894b68f90092003e413a57950a20207",
      "a838cb5969d0711eba83f0bac212bf37f585727f22c7cd6e019997192c8b6a28", { 0x3f689c98u, 0x3948557eu, 0x3f5e95e9u } },   /* cpep mae_steps=20,align_steps=20,batch=32 */
    { "24da65f86404d46af1891f66b03676b51145efe1790417d6066865f181483a75",
      "7025ce24eefa39ee01a1948ec775d33b233bdc68642d2c061899334420f542e0",
      "1d55a0a7cad5d61dd67055b8d8f72d9dd4186b117f4b977dfce980858c43ec09", { 0x3f420484u, 0x3c0e2cb6u, 0x3f46f529u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_emg_pretrain=1,freeze_emg=1,learn_temp=0,cls=0 */
    { "5b659b9c292e28a6221a25b7f8b0a4107dc25633f6aa63540905343732fbec40",
      "f1270284b016f45800e395de1c78f465230c2229fd03f5c019ceb2f2d568b2f2",
      "9a796d3a56e25ae18ae505a12f7bc10826f550822685bce14124e317967cee15", { 0x3f1ab003u, 0x3b00c8d3u, 0x3f2a0085u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_pose_pretrain=1,knn=3,temp=0.2 */
    { "15ffbd6beb267bba60f1fe2bc1f844b9eb67d1df67db877aaabbdee86e121437",
      "4b20abb5ce21f0a9286cf3f5db1246636d708afeae52658c6e8d31f753f695a5",
      "", { 0x3f517aa4u, 0x3acfd0c4u, 0x3f50d243u } },   /* emg2pose-tds mae_steps=20,batch=32 */
    { "6b5b84e8ed16d55185ef6f578f44ed116bf8f0d4b26e1a71475b54d4a831d514",
      "6d4116a9e01220b2cd69b3f765f1c2d7b0280473f7d8043b6bbaf52cff6c0c41",
      "", { 0x3e540bb1u, 0x3da63120u, 0x3e2ccbbcu } },   /* emg2pose-tds mae_steps=20,batch=32,width=16,rectify=0 */
} },
{ "Haswell", {
    { "8c888c407fbe428a40f48f382d8377eaa859827ebfc106d5758c4795d01ecfbf",
      "6b55a4f897896266ffe8d5e53c507dab49d5fede403b548b517a72ec7ff9f497",
      "", { 0x3eca4c11u, 0x3cdbb6eau, 0x3f04700bu } },   /* emg-mae mae_steps=20,batch=32 */
    { "e5147694b8f8442bd163f7ae183e9484551436a6e84a1cdacf0a47252db822a9",
      "06f750eeaa2e76ddef4c6d88d2861190c27f00bdb4c90a5eb6b98f12ff9ed316",
      "", { 0x3f3ab8f6u, 0x39be14ebu, 0x3f47d238u } },   /* pose-mae mae_steps=20,batch=32 */
    { "8d02bd57e0a785b3b112f5cd200d197f843cc2f94556f7268d4cb4e81abfb6b0",
      "ed418fee8339db3e5938e7f16d6900659192c1b80bfc2dde96d633cd7cb3408e",
      "ad1980430a30a1ea802114a4484a57925a98c20f32a5bcbf2b07f3b14a70b00e", { 0x3f734226u, 0x39d82058u, 0x3f7ef259u } },   /* pose-upper-bound mae_steps=20,batch=32 */
    { "aceea9ca3d120fc04e04e05719e1eaee54c947b21182e33fb4e6aafd84476130",
      "de8bd78a225e38762ed23c6be29d9e6881e0f01d52ff9a118d1fbc53f2d40c4a",
      "a838cb5969d0711eba83f0bac212bf37f585727f22c7cd6e019997192c8b6a28", { 0x3f689cb7u, 0x39484e7fu, 0x3f5e95dau } },   /* cpep mae_steps=20,align_steps=20,batch=32 */
    { "c0759abc92714d9d2989c8172d6529c04b97e979b4039d176de1317a99f03e08",
      "f98dafea38d0094e21c1b4fb8990cdebe4a335bd5668c5ebd9e971d09b822806",
      "1d55a0a7cad5d61dd67055b8d8f72d9dd4186b117f4b977dfce980858c43ec09", { 0x3f420479u, 0x3c0e2730u, 0x3f46f5dbu } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_emg_pretrain=1,freeze_emg=1,learn_temp=0,cls=0 */
    { "691d8f9eaaa7a926e56d7631354cae2dbf50e5200a5670f6851adf48498ef491",
      "3f21f390a9045e5759cafcbd173c73f00a635b1976af9ac2b05d79a6eec212f1",
      "9a796d3a56e25ae18ae505a12f7bc10826f550822685bce14124e317967cee15", { 0x3f1aafc6u, 0x3b00cdc7u, 0x3f2a0087u } },   /* cpep mae_steps=20,align_steps=20,batch=32,no_pose_pretrain=1,knn=3,temp=0.2 */
    { "3e60797c6e94ee4c874117155676000262d0d338628d7a83837c1d9c85d2d166",
      "8b6aabe97d7ce06295862840cb3c09f6cdbc9195eafc938ba831b8f721600456",
      "", { 0x3f517adau, 0x3acfa544u, 0x3f50d2efu } },   /* emg2pose-tds mae_steps=20,batch=32 */
    { "547f5cc764fd69deb963f554eaf237d9fe1f07ce8f3e2ccc82dd0c8ddb27bc5b",
      "bc79abb5a454d05a9e5a63d29a4ff4edaa72574c1313e94643380b7084b75622",
      "", { 0x3e540bb3u, 0x3da6311cu, 0x3e2ccbbau } },   /* emg2pose-tds mae_steps=20,batch=32,width=16,rectify=0 */
} },
