// The ISPyB columns Ferry reads and writes, with ISPyB's own table and column names (the complete
// tables have many more columns, all nullable or defaulted, which Ferry leaves alone).
import type { Generated } from 'kysely';

export interface ProposalTable {
  proposalId: Generated<number>;
  personId: number;
  proposalCode: string | null;
  proposalNumber: string | null;
  title: string | null;
}

export interface BLSessionTable {
  sessionId: Generated<number>;
  proposalId: number;
  visit_number: number | null;
  beamLineName: string | null;
  startDate: Date | null;
  endDate: Date | null;
}

export interface DataCollectionGroupTable {
  dataCollectionGroupId: Generated<number>;
  sessionId: number;
  comments: string | null;
  experimentType: string | null;
}

export interface DataCollectionTable {
  dataCollectionId: Generated<number>;
  SESSIONID: number | null;
  dataCollectionGroupId: number;
  imageDirectory: string | null;
  fileTemplate: string | null;
  imageSuffix: string | null;
  runStatus: string | null;
  comments: string | null;
  startTime: Date | null;
  endTime: Date | null;
}

export interface ProcessingJobTable {
  processingJobId: Generated<number>;
  dataCollectionId: number | null;
  displayName: string | null;
  comments: string | null;
  recordTimestamp: Generated<Date>;
  recipe: string | null;
  automatic: number | null;
}

export interface ProcessingJobParameterTable {
  processingJobParameterId: Generated<number>;
  processingJobId: number | null;
  parameterKey: string | null;
  parameterValue: string | null;
}

export interface AutoProcProgramTable {
  autoProcProgramId: Generated<number>;
  processingCommandLine: string | null;
  processingPrograms: string | null;
  processingStatus: number | null;
  processingMessage: string | null;
  processingStartTime: Date | null;
  processingEndTime: Date | null;
  processingEnvironment: string | null;
  recordTimeStamp: Date | null;
  processingJobId: number | null;
}

export interface IspybSchema {
  Proposal: ProposalTable;
  BLSession: BLSessionTable;
  DataCollectionGroup: DataCollectionGroupTable;
  DataCollection: DataCollectionTable;
  ProcessingJob: ProcessingJobTable;
  ProcessingJobParameter: ProcessingJobParameterTable;
  AutoProcProgram: AutoProcProgramTable;
}

/** Column widths Ferry writes into (varchar lengths in ISPyB), checked before writing. */
export const WIDTH = {
  imageDirectory: 255,
  fileTemplate: 255,
  imageSuffix: 45,
  displayName: 80,
  comments: 255,
  recipe: 50,
  parameterKey: 80,
  parameterValue: 1024,
  processingPrograms: 255,
  processingCommandLine: 255,
  processingEnvironment: 255,
  processingMessage: 255,
} as const;
