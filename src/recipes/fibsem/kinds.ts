// The FIB-SEM workflow's job kinds, apart from the modules that plan and run them, so that naming
// them loads none of those.
export const CONVERT_JOB = 'fibsem.convert';
export const REPAIR_JOB = 'fibsem.repair';
export const OPEN_JOB = 'render.open';
export const BATCH_JOB = 'render.batch';
export const FINISH_JOB = 'render.finish';
export const VERIFY_JOB = 'render.verify';

