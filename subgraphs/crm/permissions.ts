import { allow, isAdmin, isEditor, isMember, type Permissions } from '../kit/shield.ts';

/**
 * Who may call what in the CRM subgraph (row-level security then decides which rows exist):
 * every member reads; editors and above write; admins delete and manage pipeline stages and
 * lead forms. `submitLeadForm` is public: the form key is the credential.
 */
export const permissions: Permissions = {
  Query: {
    leads: isMember,
    lead: isMember,
    contacts: isMember,
    contact: isMember,
    deals: isMember,
    deal: isMember,
    activities: isMember,
    activity: isMember,
    pipeline: isMember,
    leadForms: isAdmin,
  },
  Mutation: {
    createLead: isEditor,
    updateLead: isEditor,
    deleteLead: isAdmin,
    assignLead: isEditor,
    convertLead: isEditor,
    createContact: isEditor,
    updateContact: isEditor,
    deleteContact: isAdmin,
    createDeal: isEditor,
    updateDeal: isEditor,
    deleteDeal: isAdmin,
    moveDeal: isEditor,
    logActivity: isEditor,
    updateActivity: isEditor,
    completeActivity: isEditor,
    deleteActivity: isAdmin,
    createPipelineStage: isAdmin,
    updatePipelineStage: isAdmin,
    deletePipelineStage: isAdmin,
    createLeadForm: isAdmin,
    deleteLeadForm: isAdmin,
    submitLeadForm: allow,
  },
  Account: isMember,
  Product: isMember,
  Lead: isMember,
  Contact: isMember,
  Deal: isMember,
  Activity: isMember,
  PipelineStage: isMember,
  Pipeline: isMember,
  PipelineStageSummary: isMember,
  CrmAmount: isMember,
  LeadForm: isAdmin,
};
