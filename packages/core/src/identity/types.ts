import { z } from 'zod';

/** Who is calling, from a validated token. Every identity function takes one. */
export type AuthContext = {
  userId: string;
  userName: string;
  /** The user's own domain. */
  domainId: string;
  projectId: string | null;
  projectName: string | null;
  /** Set when the token is domain-scoped. */
  domainScopeId: string | null;
  system: boolean;
  /** Role names, implied roles included (admin ⇒ member ⇒ reader). */
  roles: string[];
  tokenId: string;
  auditId: string;
  expiresAt: Date;
  methods: string[];
};

export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
}

export interface Project {
  id: string;
  name: string;
  domainId: string;
  parentId: string | null;
  description: string;
  enabled: boolean;
  isDomain: boolean;
  tags: string[];
}

export interface User {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  defaultProjectId: string | null;
  email: string | null;
  description: string;
  passwordExpiresAt: Date | null;
}

export interface Group {
  id: string;
  name: string;
  domainId: string;
  description: string;
}

export interface Role {
  id: string;
  name: string;
  domainId: string | null;
  description: string;
}

export interface RoleAssignment {
  role: { id: string; name?: string };
  user?: { id: string; name?: string; domainId?: string; domainName?: string };
  group?: { id: string; name?: string; domainId?: string; domainName?: string };
  scope: {
    project?: { id: string; name?: string; domainId?: string; domainName?: string };
    domain?: { id: string; name?: string };
    system?: { all: true };
  };
  /** For effective listings: the group the assignment came through. */
  viaGroupId?: string;
}

export interface Region {
  id: string;
  description: string;
  parentRegionId: string | null;
}

export interface CatalogService {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: boolean;
}

export interface Endpoint {
  id: string;
  serviceId: string;
  regionId: string | null;
  interface: 'public' | 'internal' | 'admin';
  url: string;
  enabled: boolean;
}

export interface ApplicationCredential {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  description: string;
  expiresAt: Date | null;
  unrestricted: boolean;
  roles: Array<{ id: string; name: string }>;
  accessRules: AccessRule[] | null;
  /** Only in the create response: shown once, never stored in clear. */
  secret?: string;
}

export const AccessRule = z.object({
  id: z.string().optional(),
  service: z.string().min(1),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().min(1),
});
export type AccessRule = z.infer<typeof AccessRule>;

/** A page of a list: `next` is the marker for the following page, or null. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export const ListOptions = z.object({
  marker: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Keystone's string comparison filters (`name__icontains=web`); the `i` forms ignore case. */
export const NAME_FILTER_OPS = ['contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith'] as const;
export const NameFilter = z.object({ op: z.enum(NAME_FILTER_OPS), value: z.string().max(255) });
export type NameFilter = z.infer<typeof NameFilter>;

/** List options of the named identity resources: exact `name` and any of the comparison filters (ANDed). */
export const NamedListOptions = ListOptions.extend({
  name: z.string().optional(),
  nameFilters: z.array(NameFilter).max(NAME_FILTER_OPS.length).optional(),
});

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{ id: string; interface: string; region_id: string | null; region: string | null; url: string }>;
}

/** The `token` object of Keystone's v3 token response, exactly as Keystone shapes it. */
export interface KeystoneTokenBody {
  methods: string[];
  user: { id: string; name: string; domain: { id: string; name: string }; password_expires_at: string | null };
  audit_ids: string[];
  expires_at: string;
  issued_at: string;
  project?: { id: string; name: string; domain: { id: string; name: string } };
  domain?: { id: string; name: string };
  system?: { all: true };
  is_domain?: boolean;
  roles?: Array<{ id: string; name: string }>;
  catalog?: CatalogEntry[];
  application_credential?: { id: string; name: string; restricted: boolean };
}

export const Scope = z
  .object({
    projectId: z.string().min(1).optional(),
    projectName: z.string().min(1).optional(),
    /** Domain of the project named by projectName: an id or a name. */
    projectDomain: z.string().min(1).optional(),
    domainId: z.string().min(1).optional(),
    domainName: z.string().min(1).optional(),
    system: z.boolean().optional(),
  })
  .strict();
export type Scope = z.infer<typeof Scope>;

export type AuthenticateOptions =
  | {
      method: 'password';
      userName?: string;
      userId?: string;
      userDomain?: string;
      password: string;
      scope?: Scope;
      noCatalog?: boolean;
    }
  | { method: 'token'; tokenId: string; scope?: Scope; noCatalog?: boolean }
  | {
      method: 'application_credential';
      id?: string;
      name?: string;
      userId?: string;
      userName?: string;
      userDomain?: string;
      secret: string;
      noCatalog?: boolean;
    };

export interface AuthResult {
  tokenId: string;
  context: AuthContext;
  body: KeystoneTokenBody;
}
