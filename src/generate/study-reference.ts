/**
 * The study's reference numbers (seed/thesis-live-migration-phases.txt), transcribed:
 * Table 5.1 (15 migrations of a 1 vCPU / 1 GiB VM, KVM vs OpenStack, means only) and
 * Appendix A, Tables A.1.1–A.4.5 (OpenStack, flavor 1–4 × CPU load 0/25/50/75/100 %,
 * per phase: mean, sample SD, 95 % CI half-width, CoV). Seconds, except downtime in
 * milliseconds, exactly as printed. The generator draws phase durations from these;
 * the statistics lane compares measured series against them.
 */

/** One row of an Appendix A table. */
export interface ReferenceStat {
  mean: number;
  sd: number;
  ci95: number;
  /** Coefficient of variation in percent, as printed. */
  covPercent: number;
}

export type ReferencePhase =
  | 'authentication'
  | 'initialization'
  | 'remoteConnect'
  | 'preparation'
  | 'transfer'
  | 'finish'
  | 'cleanup'
  | 'postMigration';

export interface AppendixATable {
  /** Source table name in the study, e.g. "Table A.4.5". */
  table: string;
  caption: string;
  /** 1–4 = m1.small … m1.xlarge. */
  flavor: 1 | 2 | 3 | 4;
  /** CPU load level in percent. */
  load: 0 | 25 | 50 | 75 | 100;
  authentication: ReferenceStat;
  initialization: ReferenceStat;
  remoteConnect: ReferenceStat;
  preparation: ReferenceStat;
  transfer: ReferenceStat;
  finish: ReferenceStat;
  cleanup: ReferenceStat;
  postMigration: ReferenceStat;
  /** "Migration Time (libvirt)": remote connect start → cleanup end. */
  libvirtTotal: ReferenceStat;
  /** "Total Migration Time": authentication start → post-migration end. */
  total: ReferenceStat;
  /** Milliseconds. */
  downtimeMs: ReferenceStat;
}

function s(mean: number, sd: number, ci95: number, covPercent: number): ReferenceStat {
  return { mean, sd, ci95, covPercent };
}

export const APPENDIX_A: readonly AppendixATable[] = [
  {
    table: 'Table A.1.1', caption: 'Idle (no CPU load)', flavor: 1, load: 0,
    authentication: s(0.1244, 0.0157, 0.0056, 12.61),
    initialization: s(1.68, 0.0264, 0.0095, 1.57),
    remoteConnect: s(0.0077, 0.0005, 0.0002, 6.52),
    preparation: s(0.5692, 0.0154, 0.0055, 2.71),
    transfer: s(2.0655, 0.0589, 0.0211, 2.85),
    finish: s(0.1119, 0.0639, 0.0229, 57.11),
    cleanup: s(0.3528, 0.0272, 0.0097, 7.45),
    postMigration: s(0.672, 0.0138, 0.005, 2.06),
    libvirtTotal: s(3.2126, 0.0969, 0.0347, 3.02),
    total: s(5.8263, 0.1107, 0.0396, 1.9),
    downtimeMs: s(20.9333, 5.3099, 1.9001, 25.37),
  },
  {
    table: 'Table A.1.2', caption: '25% CPU load', flavor: 1, load: 25,
    authentication: s(0.1131, 0.0092, 0.0033, 8.17),
    initialization: s(1.678, 0.0433, 0.0155, 2.58),
    remoteConnect: s(0.0078, 0.0006, 0.0002, 7.31),
    preparation: s(0.5741, 0.0156, 0.0056, 2.72),
    transfer: s(2.1033, 0.0334, 0.012, 1.59),
    finish: s(0.1244, 0.0755, 0.027, 60.74),
    cleanup: s(0.3558, 0.0202, 0.0072, 5.69),
    postMigration: s(0.6721, 0.012, 0.0043, 1.79),
    libvirtTotal: s(3.223, 0.0853, 0.0305, 2.65),
    total: s(5.8198, 0.4574, 0.1637, 7.86),
    downtimeMs: s(23.0333, 4.3626, 1.5611, 18.94),
  },
  {
    table: 'Table A.1.3', caption: '50% CPU load', flavor: 1, load: 50,
    authentication: s(0.1439, 0.0171, 0.0061, 11.89),
    initialization: s(1.7012, 0.0954, 0.0342, 5.61),
    remoteConnect: s(0.0077, 0.0005, 0.0002, 6.91),
    preparation: s(0.5696, 0.0149, 0.0053, 2.62),
    transfer: s(2.2017, 0.1857, 0.0665, 8.44),
    finish: s(0.1263, 0.032, 0.0114, 25.29),
    cleanup: s(0.3598, 0.0195, 0.007, 5.42),
    postMigration: s(0.6785, 0.0265, 0.0095, 3.91),
    libvirtTotal: s(3.35, 0.1875, 0.0671, 5.6),
    total: s(6.122, 0.39, 0.1395, 6.37),
    downtimeMs: s(24.6333, 4.7713, 1.7074, 19.37),
  },
  {
    table: 'Table A.1.4', caption: '75% CPU load', flavor: 1, load: 75,
    authentication: s(0.1395, 0.0042, 0.0015, 2.98),
    initialization: s(1.6815, 0.0536, 0.0192, 3.19),
    remoteConnect: s(0.0078, 0.0005, 0.0002, 6.49),
    preparation: s(0.5736, 0.0131, 0.0047, 2.28),
    transfer: s(2.2726, 0.1157, 0.0414, 5.09),
    finish: s(0.1278, 0.0697, 0.025, 54.59),
    cleanup: s(0.3683, 0.0232, 0.0083, 6.29),
    postMigration: s(0.6816, 0.0282, 0.0101, 4.13),
    libvirtTotal: s(3.3852, 0.1294, 0.0463, 3.82),
    total: s(6.0473, 0.8103, 0.29, 13.4),
    downtimeMs: s(25.75, 6.9531, 2.4881, 27),
  },
  {
    table: 'Table A.1.5', caption: '100% CPU load', flavor: 1, load: 100,
    authentication: s(0.1622, 0.0231, 0.0083, 14.23),
    initialization: s(1.6915, 0.0325, 0.0116, 1.92),
    remoteConnect: s(0.0078, 0.0011, 0.0004, 13.58),
    preparation: s(0.5827, 0.035, 0.0125, 6),
    transfer: s(2.3275, 0.1157, 0.0414, 4.97),
    finish: s(0.1288, 0.0557, 0.0199, 43.22),
    cleanup: s(0.3707, 0.0231, 0.0083, 6.24),
    postMigration: s(0.6741, 0.014, 0.005, 2.08),
    libvirtTotal: s(3.4672, 0.14, 0.0501, 4.04),
    total: s(6.0692, 0.3981, 0.1425, 6.56),
    downtimeMs: s(26.5667, 4.4248, 1.5834, 16.66),
  },
  {
    table: 'Table A.2.1', caption: 'Idle, 0% CPU load', flavor: 2, load: 0,
    authentication: s(0.1355, 0.0167, 0.006, 12.29),
    initialization: s(1.7015, 0.0881, 0.0315, 5.18),
    remoteConnect: s(0.0079, 0.0006, 0.0002, 8.14),
    preparation: s(0.5943, 0.0177, 0.0063, 2.98),
    transfer: s(2.576, 0.0819, 0.0293, 3.18),
    finish: s(0.1261, 0.0641, 0.0337, 50.79),
    cleanup: s(0.3617, 0.0277, 0.0099, 7.67),
    postMigration: s(0.6721, 0.0257, 0.0092, 3.82),
    libvirtTotal: s(3.7948, 0.1602, 0.0573, 4.22),
    total: s(6.4139, 0.8056, 0.2883, 12.56),
    downtimeMs: s(25, 7.1972, 2.5754, 28.79),
  },
  {
    table: 'Table A.2.2', caption: '25% CPU load', flavor: 2, load: 25,
    authentication: s(0.1408, 0.0133, 0.0048, 9.48),
    initialization: s(1.6714, 0.0511, 0.0183, 3.06),
    remoteConnect: s(0.0076, 0.0009, 0.0003, 11.17),
    preparation: s(0.604, 0.0242, 0.0087, 4.01),
    transfer: s(2.7386, 0.083, 0.0297, 3.03),
    finish: s(0.1296, 0.0358, 0.0128, 27.66),
    cleanup: s(0.3707, 0.059, 0.0211, 15.93),
    postMigration: s(0.6806, 0.0344, 0.0123, 5.06),
    libvirtTotal: s(3.8625, 0.0992, 0.0355, 2.57),
    total: s(6.6332, 0.1194, 0.0427, 1.8),
    downtimeMs: s(26.3667, 5.6243, 2.0126, 21.33),
  },
  {
    table: 'Table A.2.3', caption: '50% CPU load', flavor: 2, load: 50,
    authentication: s(0.1415, 0.0052, 0.0019, 3.7),
    initialization: s(1.6926, 0.0245, 0.0088, 1.45),
    remoteConnect: s(0.0078, 0.0012, 0.0004, 14.8),
    preparation: s(0.6045, 0.0504, 0.0181, 8.35),
    transfer: s(2.8687, 0.0602, 0.0215, 2.1),
    finish: s(0.1317, 0.0698, 0.0347, 53.02),
    cleanup: s(0.3716, 0.0535, 0.0191, 14.39),
    postMigration: s(0.6761, 0.0086, 0.0031, 1.27),
    libvirtTotal: s(4.0029, 0.148, 0.053, 3.7),
    total: s(6.6526, 0.3719, 0.1331, 5.59),
    downtimeMs: s(28.3333, 6.9921, 2.502, 24.68),
  },
  {
    table: 'Table A.2.4', caption: '75% CPU load', flavor: 2, load: 75,
    authentication: s(0.1479, 0.0199, 0.0071, 13.46),
    initialization: s(1.7018, 0.0575, 0.0206, 3.38),
    remoteConnect: s(0.0077, 0.0007, 0.0002, 9.01),
    preparation: s(0.6206, 0.0197, 0.007, 3.17),
    transfer: s(2.9396, 0.1665, 0.0596, 5.67),
    finish: s(0.133, 0.0656, 0.0235, 49.36),
    cleanup: s(0.3718, 0.044, 0.0157, 11.83),
    postMigration: s(0.6792, 0.017, 0.0061, 2.51),
    libvirtTotal: s(4.0877, 0.1742, 0.0623, 4.26),
    total: s(6.8485, 0.5999, 0.2147, 8.76),
    downtimeMs: s(31.5333, 6.6017, 2.3623, 20.94),
  },
  {
    table: 'Table A.2.5', caption: '100% CPU load', flavor: 2, load: 100,
    authentication: s(0.1331, 0.0099, 0.0036, 7.47),
    initialization: s(1.6837, 0.0945, 0.0338, 5.61),
    remoteConnect: s(0.0079, 0.0003, 0.0001, 3.24),
    preparation: s(0.6032, 0.021, 0.0075, 3.48),
    transfer: s(3.054, 0.121, 0.0433, 3.96),
    finish: s(0.1332, 0.0426, 0.0152, 31.96),
    cleanup: s(0.3721, 0.0701, 0.0251, 18.84),
    postMigration: s(0.6742, 0.0233, 0.0083, 3.46),
    libvirtTotal: s(4.2137, 0.1858, 0.0665, 4.41),
    total: s(6.7194, 0.8036, 0.2876, 11.96),
    downtimeMs: s(32.1333, 6.4017, 2.2908, 19.92),
  },
  {
    table: 'Table A.3.1', caption: 'Idle, 0% CPU load', flavor: 3, load: 0,
    authentication: s(0.1596, 0.0186, 0.0067, 11.65),
    initialization: s(1.6736, 0.0838, 0.03, 5.01),
    remoteConnect: s(0.0079, 0.0003, 0.0001, 4.18),
    preparation: s(0.6514, 0.0527, 0.0189, 8.09),
    transfer: s(3.4075, 0.0504, 0.018, 1.48),
    finish: s(0.1306, 0.0484, 0.0173, 37.07),
    cleanup: s(0.3787, 0.0592, 0.0212, 15.65),
    postMigration: s(0.7216, 0.0099, 0.0035, 1.37),
    libvirtTotal: s(4.5931, 0.1295, 0.0463, 2.82),
    total: s(7.3283, 0.2514, 0.0899, 3.43),
    downtimeMs: s(29.9667, 3.7726, 1.35, 12.59),
  },
  {
    table: 'Table A.3.2', caption: '25% CPU load', flavor: 3, load: 25,
    authentication: s(0.1403, 0.0065, 0.0023, 4.6),
    initialization: s(1.6911, 0.0367, 0.0131, 2.17),
    remoteConnect: s(0.0079, 0.0013, 0.0005, 16.15),
    preparation: s(0.6351, 0.0278, 0.0099, 4.37),
    transfer: s(3.6221, 0.0927, 0.0332, 2.56),
    finish: s(0.1314, 0.0532, 0.019, 40.47),
    cleanup: s(0.3795, 0.0621, 0.0222, 16.35),
    postMigration: s(0.7164, 0.0443, 0.0158, 6.18),
    libvirtTotal: s(4.783, 0.1312, 0.0469, 2.74),
    total: s(7.3729, 0.766, 0.2741, 10.39),
    downtimeMs: s(32.5333, 4.9715, 1.779, 15.28),
  },
  {
    table: 'Table A.3.3', caption: '50% CPU load', flavor: 3, load: 50,
    authentication: s(0.1637, 0.0179, 0.0064, 10.93),
    initialization: s(1.7121, 0.0993, 0.0355, 5.8),
    remoteConnect: s(0.0077, 0.0009, 0.0003, 11.22),
    preparation: s(0.6411, 0.0506, 0.0181, 7.89),
    transfer: s(3.7745, 0.1285, 0.046, 3.41),
    finish: s(0.1325, 0.0467, 0.0167, 35.25),
    cleanup: s(0.38, 0.073, 0.0261, 19.22),
    postMigration: s(0.7208, 0.0115, 0.0041, 1.6),
    libvirtTotal: s(4.9448, 0.1201, 0.043, 2.43),
    total: s(7.6657, 0.6485, 0.2321, 8.46),
    downtimeMs: s(36.4667, 5.6964, 2.0384, 15.62),
  },
  {
    table: 'Table A.3.4', caption: '75% CPU load', flavor: 3, load: 75,
    authentication: s(0.1412, 0.0115, 0.0041, 8.13),
    initialization: s(1.7302, 0.0415, 0.0149, 2.4),
    remoteConnect: s(0.0079, 0.0008, 0.0003, 10.03),
    preparation: s(0.6426, 0.0256, 0.0091, 3.98),
    transfer: s(3.8113, 0.2001, 0.0716, 5.25),
    finish: s(0.1337, 0.0454, 0.0162, 33.93),
    cleanup: s(0.3824, 0.0333, 0.0119, 8.71),
    postMigration: s(0.7144, 0.0329, 0.0118, 4.61),
    libvirtTotal: s(4.9951, 0.1871, 0.067, 3.75),
    total: s(7.6584, 0.3194, 0.1143, 4.17),
    downtimeMs: s(37.7667, 6.8977, 2.4683, 18.26),
  },
  {
    table: 'Table A.3.5', caption: '100% CPU load', flavor: 3, load: 100,
    authentication: s(0.172, 0.0117, 0.0042, 6.82),
    initialization: s(1.7404, 0.0317, 0.0113, 1.82),
    remoteConnect: s(0.0077, 0.0005, 0.0002, 6.26),
    preparation: s(0.6616, 0.0701, 0.0251, 10.6),
    transfer: s(3.8354, 0.0986, 0.0353, 2.57),
    finish: s(0.1343, 0.0613, 0.0219, 45.68),
    cleanup: s(0.3904, 0.066, 0.0236, 16.9),
    postMigration: s(0.7185, 0.0154, 0.0055, 2.15),
    libvirtTotal: s(5.0377, 0.1449, 0.0518, 2.88),
    total: s(7.7313, 0.7979, 0.2855, 10.32),
    downtimeMs: s(39.7333, 4.9929, 1.7866, 12.57),
  },
  {
    table: 'Table A.4.1', caption: 'Idle, 0% CPU load', flavor: 4, load: 0,
    authentication: s(0.1575, 0.0057, 0.002, 3.61),
    initialization: s(1.9062, 0.1151, 0.0412, 6.04),
    remoteConnect: s(0.0081, 0.0006, 0.0002, 7.21),
    preparation: s(0.7348, 0.0697, 0.0249, 9.48),
    transfer: s(5.3921, 0.1651, 0.0591, 3.06),
    finish: s(0.1407, 0.053, 0.019, 37.65),
    cleanup: s(0.3967, 0.0513, 0.0184, 12.93),
    postMigration: s(0.7852, 0.0181, 0.0065, 2.31),
    libvirtTotal: s(6.6897, 0.2488, 0.089, 3.72),
    total: s(9.6406, 0.6507, 0.2329, 6.75),
    downtimeMs: s(44.8667, 5.512, 1.9724, 12.29),
  },
  {
    table: 'Table A.4.2', caption: '25% CPU load', flavor: 4, load: 25,
    authentication: s(0.1812, 0.0107, 0.0038, 5.93),
    initialization: s(1.8532, 0.0343, 0.0123, 1.85),
    remoteConnect: s(0.008, 0.0019, 0.0007, 23.13),
    preparation: s(0.7205, 0.0366, 0.0131, 5.07),
    transfer: s(5.7045, 0.171, 0.0612, 3),
    finish: s(0.1421, 0.0345, 0.0124, 24.31),
    cleanup: s(0.4027, 0.0849, 0.0304, 21.07),
    postMigration: s(0.7901, 0.0249, 0.0089, 3.15),
    libvirtTotal: s(6.992, 0.2508, 0.0897, 3.59),
    total: s(10.0772, 0.5946, 0.2128, 5.9),
    downtimeMs: s(50.2333, 8.0278, 2.8727, 15.98),
  },
  {
    table: 'Table A.4.3', caption: '50% CPU load', flavor: 4, load: 50,
    authentication: s(0.1671, 0.016, 0.0057, 9.57),
    initialization: s(1.8711, 0.1005, 0.036, 5.37),
    remoteConnect: s(0.0081, 0.0006, 0.0002, 7.35),
    preparation: s(0.7369, 0.0635, 0.0227, 8.61),
    transfer: s(5.9109, 0.1837, 0.0657, 3.11),
    finish: s(0.146, 0.0454, 0.0162, 31.07),
    cleanup: s(0.4246, 0.0416, 0.0149, 9.79),
    postMigration: s(0.7849, 0.0095, 0.0034, 1.21),
    libvirtTotal: s(7.2564, 0.1941, 0.0694, 2.67),
    total: s(10.1291, 1.1598, 0.415, 11.45),
    downtimeMs: s(52.3917, 7.8283, 2.8013, 14.94),
  },
  {
    table: 'Table A.4.4', caption: '75% CPU load', flavor: 4, load: 75,
    authentication: s(0.183, 0.0193, 0.0069, 10.53),
    initialization: s(1.8371, 0.0626, 0.0224, 3.41),
    remoteConnect: s(0.0082, 0.0008, 0.0003, 9.79),
    preparation: s(0.7494, 0.068, 0.0243, 9.08),
    transfer: s(6.3479, 0.1249, 0.0447, 1.97),
    finish: s(0.1488, 0.0416, 0.0149, 27.96),
    cleanup: s(0.431, 0.0352, 0.0126, 8.17),
    postMigration: s(0.7838, 0.0138, 0.0049, 1.76),
    libvirtTotal: s(7.6926, 0.2739, 0.098, 3.56),
    total: s(10.727, 0.9343, 0.3343, 8.71),
    downtimeMs: s(53.625, 5.9015, 2.1118, 11.01),
  },
  {
    table: 'Table A.4.5', caption: '100% CPU load', flavor: 4, load: 100,
    authentication: s(0.191, 0.0224, 0.008, 11.72),
    initialization: s(1.9047, 0.0541, 0.0194, 2.84),
    remoteConnect: s(0.0082, 0.0005, 0.0002, 5.84),
    preparation: s(0.781, 0.0723, 0.0259, 9.25),
    transfer: s(7.1211, 0.3645, 0.1304, 5.12),
    finish: s(0.1508, 0.0451, 0.0161, 29.89),
    cleanup: s(0.4481, 0.0332, 0.0119, 7.4),
    postMigration: s(0.7948, 0.043, 0.0154, 5.41),
    libvirtTotal: s(8.5237, 0.3246, 0.1162, 3.81),
    total: s(11.4815, 0.5109, 0.1828, 4.45),
    downtimeMs: s(54.375, 6.330729, 2.265381, 11.64),
  },
];

/** Table 5.1: means (seconds; downtime in ms) of 15 migrations, 1 vCPU / 1024 MB VM. */
export interface Table51Column {
  authentication?: number;
  initialization?: number;
  remoteConnect: number;
  preparation: number;
  transfer: number;
  finish: number;
  cleanup: number;
  postMigration?: number;
  libvirtTotal: number;
  total: number;
  downtimeMs: number;
}

export const TABLE_5_1: { readonly table: 'Table 5.1'; readonly kvm: Table51Column; readonly openstack: Table51Column } = {
  table: 'Table 5.1',
  kvm: {
    remoteConnect: 0.0068, preparation: 0.5919, transfer: 1.9684, finish: 0.0721, cleanup: 0.3549,
    libvirtTotal: 3.2126, total: 3.2126, downtimeMs: 17.86,
  },
  openstack: {
    authentication: 0.14082, initialization: 1.52317, remoteConnect: 0.0077, preparation: 0.6205,
    transfer: 2.2561, finish: 0.1216, cleanup: 0.3654, postMigration: 0.6719,
    libvirtTotal: 3.2723, total: 5.614, downtimeMs: 19.76,
  },
};

/** The CPU load levels of Appendix A. */
export const LOAD_LEVELS = [0, 25, 50, 75, 100] as const;

/** The Appendix A table for a flavor and a load level (load rounded to the nearest level). */
export function appendixATable(flavor: number, load: number): AppendixATable {
  const level = LOAD_LEVELS.reduce((best, l) => (Math.abs(l - load) < Math.abs(best - load) ? l : best), 0);
  const t = APPENDIX_A.find((x) => x.flavor === flavor && x.load === level);
  if (!t) throw new RangeError(`no Appendix A table for flavor ${flavor}`);
  return t;
}
