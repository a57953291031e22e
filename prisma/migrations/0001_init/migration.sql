-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Service" (
    "id" UUID NOT NULL,
    "binary" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "roles" TEXT[],
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "disabledReason" TEXT,
    "forcedDown" BOOLEAN NOT NULL DEFAULT false,
    "reportedDown" BOOLEAN NOT NULL DEFAULT false,
    "lastHeartbeat" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" TEXT NOT NULL DEFAULT '0.1.0',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Task" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "projectId" TEXT,
    "resourceId" TEXT,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "message" TEXT,
    "requestId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QueueWorker" (
    "workerId" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "QueueWorker_pkey" PRIMARY KEY ("workerId")
);

-- CreateTable
CREATE TABLE "Flavor" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "vcpus" INTEGER NOT NULL,
    "ramMb" INTEGER NOT NULL,
    "diskGb" INTEGER NOT NULL,
    "ephemeralGb" INTEGER NOT NULL DEFAULT 0,
    "swapMb" INTEGER NOT NULL DEFAULT 0,
    "rxtxFactor" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    "isPublic" BOOLEAN NOT NULL DEFAULT true,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "extraSpecs" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Flavor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlavorAccess" (
    "flavorId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlavorAccess_pkey" PRIMARY KEY ("flavorId","projectId")
);

-- CreateTable
CREATE TABLE "KeyPair" (
    "id" UUID NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'ssh',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KeyPair_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Server" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "flavorId" TEXT NOT NULL,
    "flavor" JSONB NOT NULL,
    "imageId" TEXT NOT NULL,
    "keyName" TEXT,
    "keyData" TEXT,
    "userData" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "availabilityZone" TEXT,
    "reservationId" TEXT NOT NULL,
    "launchIndex" INTEGER NOT NULL DEFAULT 0,
    "host" TEXT,
    "node" TEXT,
    "vmState" TEXT NOT NULL DEFAULT 'building',
    "taskState" TEXT,
    "powerState" INTEGER NOT NULL DEFAULT 0,
    "locked" BOOLEAN NOT NULL DEFAULT false,
    "lockedBy" TEXT,
    "lockedReason" TEXT,
    "fault" JSONB,
    "accessIpV4" TEXT,
    "accessIpV6" TEXT,
    "serverGroupId" UUID,
    "triedHosts" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "requestedNetworks" JSONB NOT NULL DEFAULT '[]',
    "launchedAt" TIMESTAMP(3),
    "terminatedAt" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "deletedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Server_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstanceAction" (
    "id" UUID NOT NULL,
    "serverId" UUID NOT NULL,
    "requestId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "message" TEXT,
    "startTime" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishTime" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "InstanceAction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstanceActionEvent" (
    "id" UUID NOT NULL,
    "actionId" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "host" TEXT,
    "result" TEXT,
    "traceback" TEXT,
    "message" TEXT,
    "startTime" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishTime" TIMESTAMP(3),

    CONSTRAINT "InstanceActionEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServerGroup" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "rules" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ServerGroup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServerGroupMember" (
    "groupId" UUID NOT NULL,
    "serverId" UUID NOT NULL,

    CONSTRAINT "ServerGroupMember_pkey" PRIMARY KEY ("groupId","serverId")
);

-- CreateTable
CREATE TABLE "ComputeNode" (
    "id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "hypervisorHostname" TEXT NOT NULL,
    "hypervisorType" TEXT NOT NULL,
    "hypervisorVersion" TEXT NOT NULL,
    "cpuInfo" TEXT NOT NULL DEFAULT '',
    "vcpus" INTEGER NOT NULL,
    "memoryMb" INTEGER NOT NULL,
    "localGb" INTEGER NOT NULL,
    "vcpusUsed" INTEGER NOT NULL DEFAULT 0,
    "memoryMbUsed" INTEGER NOT NULL DEFAULT 0,
    "localGbUsed" INTEGER NOT NULL DEFAULT 0,
    "runningVms" INTEGER NOT NULL DEFAULT 0,
    "cpuAllocationRatio" DOUBLE PRECISION NOT NULL DEFAULT 4.0,
    "ramAllocationRatio" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    "diskAllocationRatio" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    "resourceProviderUuid" UUID NOT NULL,
    "hostIp" TEXT NOT NULL DEFAULT '127.0.0.1',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ComputeNode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ComputeQuota" (
    "projectId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "hardLimit" INTEGER NOT NULL,

    CONSTRAINT "ComputeQuota_pkey" PRIMARY KEY ("projectId","resource")
);

-- CreateTable
CREATE TABLE "ComputeQuotaLock" (
    "projectId" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ComputeQuotaLock_pkey" PRIMARY KEY ("projectId")
);

-- CreateTable
CREATE TABLE "Aggregate" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Aggregate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AggregateHost" (
    "aggregateId" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AggregateHost_pkey" PRIMARY KEY ("aggregateId","host")
);

-- CreateTable
CREATE TABLE "Migration" (
    "id" UUID NOT NULL,
    "number" SERIAL NOT NULL,
    "serverId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "migrationType" TEXT NOT NULL DEFAULT 'resize',
    "status" TEXT NOT NULL,
    "sourceHost" TEXT NOT NULL,
    "sourceNode" TEXT NOT NULL,
    "destHost" TEXT NOT NULL,
    "destNode" TEXT NOT NULL,
    "oldFlavor" JSONB NOT NULL,
    "newFlavor" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Migration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConsoleToken" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "serverId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConsoleToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Ec2Credential" (
    "id" TEXT NOT NULL,
    "access" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "secretEncrypted" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "trustId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Ec2Credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Domain" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Domain_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Project" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "parentId" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "passwordHash" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "defaultProjectId" TEXT,
    "email" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "failedAttempts" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMP(3),
    "passwordChangedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Group" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GroupMembership" (
    "groupId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GroupMembership_pkey" PRIMARY KEY ("groupId","userId")
);

-- CreateTable
CREATE TABLE "Role" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Role_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RoleAssignment" (
    "id" TEXT NOT NULL,
    "roleId" TEXT NOT NULL,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT NOT NULL,
    "targetType" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoleAssignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Region" (
    "id" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "parentRegionId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Region_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogService" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CatalogService_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Endpoint" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "regionId" TEXT,
    "interface" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApplicationCredential" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "expiresAt" TIMESTAMP(3),
    "unrestricted" BOOLEAN NOT NULL DEFAULT false,
    "roleIds" TEXT[],
    "accessRules" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApplicationCredential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RevocationEvent" (
    "id" BIGSERIAL NOT NULL,
    "auditId" TEXT,
    "userId" TEXT,
    "projectId" TEXT,
    "domainId" TEXT,
    "roleId" TEXT,
    "appCredId" TEXT,
    "issuedBefore" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RevocationEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Image" (
    "id" UUID NOT NULL,
    "name" TEXT,
    "owner" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "visibility" TEXT NOT NULL DEFAULT 'shared',
    "diskFormat" TEXT,
    "containerFormat" TEXT,
    "size" BIGINT,
    "virtualSize" BIGINT,
    "checksum" TEXT,
    "osHashAlgo" TEXT,
    "osHashValue" TEXT,
    "minDisk" INTEGER NOT NULL DEFAULT 0,
    "minRam" INTEGER NOT NULL DEFAULT 0,
    "protected" BOOLEAN NOT NULL DEFAULT false,
    "osHidden" BOOLEAN NOT NULL DEFAULT false,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "properties" JSONB NOT NULL DEFAULT '{}',
    "location" TEXT,
    "uploadHeartbeat" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Image_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImageMember" (
    "imageId" UUID NOT NULL,
    "memberId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ImageMember_pkey" PRIMARY KEY ("imageId","memberId")
);

-- CreateTable
CREATE TABLE "ImageQuota" (
    "projectId" TEXT NOT NULL,
    "images" INTEGER,
    "totalBytes" BIGINT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ImageQuota_pkey" PRIMARY KEY ("projectId")
);

-- CreateTable
CREATE TABLE "Network" (
    "id" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "adminStateUp" BOOLEAN NOT NULL DEFAULT true,
    "shared" BOOLEAN NOT NULL DEFAULT false,
    "external" BOOLEAN NOT NULL DEFAULT false,
    "mtu" INTEGER NOT NULL DEFAULT 1450,
    "networkType" TEXT NOT NULL DEFAULT 'vxlan',
    "physicalNetwork" TEXT,
    "segmentationId" INTEGER,
    "status" TEXT NOT NULL DEFAULT 'BUILD',
    "portSecurityEnabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Network_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subnet" (
    "id" UUID NOT NULL,
    "networkId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "ipVersion" INTEGER NOT NULL DEFAULT 4,
    "cidr" TEXT NOT NULL,
    "gatewayIp" TEXT,
    "allocationPools" JSONB NOT NULL DEFAULT '[]',
    "dnsNameservers" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "hostRoutes" JSONB NOT NULL DEFAULT '[]',
    "enableDhcp" BOOLEAN NOT NULL DEFAULT true,
    "ipv6RaMode" TEXT,
    "ipv6AddressMode" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Subnet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Port" (
    "id" UUID NOT NULL,
    "networkId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "macAddress" TEXT NOT NULL,
    "adminStateUp" BOOLEAN NOT NULL DEFAULT true,
    "deviceOwner" TEXT NOT NULL DEFAULT '',
    "deviceId" TEXT NOT NULL DEFAULT '',
    "bindingHost" TEXT NOT NULL DEFAULT '',
    "bindingVnicType" TEXT NOT NULL DEFAULT 'normal',
    "allowedAddressPairs" JSONB NOT NULL DEFAULT '[]',
    "portSecurityEnabled" BOOLEAN NOT NULL DEFAULT true,
    "status" TEXT NOT NULL DEFAULT 'DOWN',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Port_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PortFixedIp" (
    "portId" UUID NOT NULL,
    "subnetId" UUID NOT NULL,
    "ip" TEXT NOT NULL,

    CONSTRAINT "PortFixedIp_pkey" PRIMARY KEY ("portId","subnetId","ip")
);

-- CreateTable
CREATE TABLE "PortSecurityGroup" (
    "portId" UUID NOT NULL,
    "securityGroupId" UUID NOT NULL,

    CONSTRAINT "PortSecurityGroup_pkey" PRIMARY KEY ("portId","securityGroupId")
);

-- CreateTable
CREATE TABLE "Router" (
    "id" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "adminStateUp" BOOLEAN NOT NULL DEFAULT true,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "gatewayPortId" UUID,
    "gatewayNetworkId" UUID,
    "enableSnat" BOOLEAN NOT NULL DEFAULT true,
    "routes" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Router_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RouterInterface" (
    "routerId" UUID NOT NULL,
    "portId" UUID NOT NULL,
    "subnetId" UUID NOT NULL,

    CONSTRAINT "RouterInterface_pkey" PRIMARY KEY ("portId")
);

-- CreateTable
CREATE TABLE "FloatingIp" (
    "id" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "floatingNetworkId" UUID NOT NULL,
    "floatingIp" TEXT NOT NULL,
    "floatingPortId" UUID NOT NULL,
    "portId" UUID,
    "fixedIp" TEXT,
    "routerId" UUID,
    "description" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL DEFAULT 'DOWN',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "FloatingIp_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SecurityGroup" (
    "id" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "defaultFor" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SecurityGroup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SecurityGroupRule" (
    "id" UUID NOT NULL,
    "securityGroupId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "ethertype" TEXT NOT NULL DEFAULT 'IPv4',
    "protocol" TEXT,
    "portRangeMin" INTEGER,
    "portRangeMax" INTEGER,
    "remoteIpPrefix" TEXT,
    "remoteGroupId" UUID,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SecurityGroupRule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NetworkQuota" (
    "projectId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "hardLimit" INTEGER NOT NULL,

    CONSTRAINT "NetworkQuota_pkey" PRIMARY KEY ("projectId","resource")
);

-- CreateTable
CREATE TABLE "NetworkTunnelEndpoint" (
    "host" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NetworkTunnelEndpoint_pkey" PRIMARY KEY ("host")
);

-- CreateTable
CREATE TABLE "ObjectRing" (
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "partPower" INTEGER NOT NULL,
    "replicas" INTEGER NOT NULL,
    "minPartHours" INTEGER NOT NULL DEFAULT 1,
    "hashPathPrefix" TEXT NOT NULL,
    "hashPathSuffix" TEXT NOT NULL,
    "assignment" BYTEA NOT NULL,
    "lastMoved" BYTEA NOT NULL,
    "balance" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "rebalancedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObjectRing_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "ObjectRingDevice" (
    "ringName" TEXT NOT NULL,
    "id" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "device" TEXT NOT NULL,
    "zone" INTEGER NOT NULL DEFAULT 1,
    "weight" DOUBLE PRECISION NOT NULL DEFAULT 100,
    "server" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObjectRingDevice_pkey" PRIMARY KEY ("ringName","id")
);

-- CreateTable
CREATE TABLE "SwiftAccount" (
    "name" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "meta" JSONB NOT NULL DEFAULT '{}',
    "createdTs" TEXT NOT NULL,
    "metaTs" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SwiftAccount_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "SwiftContainer" (
    "id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "meta" JSONB NOT NULL DEFAULT '{}',
    "readAcl" TEXT,
    "writeAcl" TEXT,
    "objectCount" BIGINT NOT NULL DEFAULT 0,
    "bytesUsed" BIGINT NOT NULL DEFAULT 0,
    "createdTs" TEXT NOT NULL,
    "metaTs" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SwiftContainer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SwiftObject" (
    "account" TEXT NOT NULL,
    "container" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "storedBytes" BIGINT NOT NULL,
    "etag" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "timestamp" TEXT NOT NULL,
    "lastModified" TIMESTAMP(3) NOT NULL,
    "deleteAt" BIGINT,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "SwiftObject_pkey" PRIMARY KEY ("account","container","name")
);

-- CreateTable
CREATE TABLE "SwiftReservation" (
    "id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "container" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "objects" INTEGER NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SwiftReservation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ResourceProvider" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 0,
    "parentId" UUID,
    "rootId" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ResourceProvider_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PlacementInventory" (
    "providerId" UUID NOT NULL,
    "resourceClass" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "minUnit" INTEGER NOT NULL DEFAULT 1,
    "maxUnit" INTEGER NOT NULL,
    "stepSize" INTEGER NOT NULL DEFAULT 1,
    "allocationRatio" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    "used" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "PlacementInventory_pkey" PRIMARY KEY ("providerId","resourceClass")
);

-- CreateTable
CREATE TABLE "PlacementConsumer" (
    "id" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PlacementConsumer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PlacementAllocation" (
    "consumerId" UUID NOT NULL,
    "providerId" UUID NOT NULL,
    "resourceClass" TEXT NOT NULL,
    "used" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PlacementAllocation_pkey" PRIMARY KEY ("consumerId","providerId","resourceClass")
);

-- CreateTable
CREATE TABLE "PlacementResourceClass" (
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PlacementResourceClass_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "PlacementTrait" (
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PlacementTrait_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "ResourceProviderTrait" (
    "providerId" UUID NOT NULL,
    "trait" TEXT NOT NULL,

    CONSTRAINT "ResourceProviderTrait_pkey" PRIMARY KEY ("providerId","trait")
);

-- CreateTable
CREATE TABLE "ResourceProviderAggregate" (
    "providerId" UUID NOT NULL,
    "aggregateUuid" UUID NOT NULL,

    CONSTRAINT "ResourceProviderAggregate_pkey" PRIMARY KEY ("providerId","aggregateUuid")
);

-- CreateTable
CREATE TABLE "VolumeType" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "isPublic" BOOLEAN NOT NULL DEFAULT true,
    "extraSpecs" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VolumeType_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeBackend" (
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "backendName" TEXT NOT NULL,
    "driver" TEXT NOT NULL,
    "availabilityZone" TEXT NOT NULL,
    "totalGb" INTEGER NOT NULL,
    "freeGb" INTEGER NOT NULL,
    "overSubscription" DOUBLE PRECISION NOT NULL DEFAULT 20,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VolumeBackend_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "Volume" (
    "id" UUID NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "attachStatus" TEXT NOT NULL DEFAULT 'detached',
    "volumeTypeId" UUID NOT NULL,
    "availabilityZone" TEXT NOT NULL,
    "backend" TEXT,
    "host" TEXT,
    "format" TEXT NOT NULL DEFAULT 'qcow2',
    "bootable" BOOLEAN NOT NULL DEFAULT false,
    "multiattach" BOOLEAN NOT NULL DEFAULT false,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "imageMetadata" JSONB NOT NULL DEFAULT '{}',
    "sourceVolId" UUID,
    "snapshotId" UUID,
    "imageId" TEXT,
    "backupId" UUID,
    "errorMessage" TEXT,
    "previousStatus" TEXT,
    "pendingSize" INTEGER,
    "pendingTypeId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Volume_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeAttachment" (
    "id" UUID NOT NULL,
    "volumeId" UUID NOT NULL,
    "serverId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "host" TEXT,
    "device" TEXT,
    "status" TEXT NOT NULL DEFAULT 'attaching',
    "mode" TEXT NOT NULL DEFAULT 'rw',
    "bootIndex" INTEGER,
    "deleteOnTermination" BOOLEAN NOT NULL DEFAULT false,
    "tag" TEXT,
    "attachedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VolumeAttachment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeSnapshot" (
    "id" UUID NOT NULL,
    "volumeId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "size" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "progress" INTEGER NOT NULL DEFAULT 0,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "backend" TEXT,
    "host" TEXT,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VolumeSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeBackup" (
    "id" UUID NOT NULL,
    "volumeId" UUID NOT NULL,
    "snapshotId" UUID,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "size" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "progress" INTEGER NOT NULL DEFAULT 0,
    "isIncremental" BOOLEAN NOT NULL DEFAULT false,
    "parentId" UUID,
    "container" TEXT,
    "driver" TEXT NOT NULL DEFAULT 'file',
    "objectCount" INTEGER NOT NULL DEFAULT 0,
    "storedBytes" BIGINT NOT NULL DEFAULT 0,
    "availabilityZone" TEXT,
    "host" TEXT,
    "failReason" TEXT,
    "restoreVolumeId" UUID,
    "dataTimestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VolumeBackup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeTransfer" (
    "id" UUID NOT NULL,
    "volumeId" UUID NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT,
    "salt" TEXT NOT NULL,
    "cryptHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VolumeTransfer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VolumeQuota" (
    "projectId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "hardLimit" INTEGER NOT NULL,

    CONSTRAINT "VolumeQuota_pkey" PRIMARY KEY ("projectId","resource")
);

-- CreateTable
CREATE TABLE "VolumeQuotaLock" (
    "projectId" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VolumeQuotaLock_pkey" PRIMARY KEY ("projectId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Service_binary_host_key" ON "Service"("binary", "host");

-- CreateIndex
CREATE INDEX "Task_projectId_createdAt_idx" ON "Task"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "QueueWorker_host_idx" ON "QueueWorker"("host");

-- CreateIndex
CREATE UNIQUE INDEX "Flavor_name_key" ON "Flavor"("name");

-- CreateIndex
CREATE INDEX "FlavorAccess_projectId_idx" ON "FlavorAccess"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "KeyPair_userId_name_key" ON "KeyPair"("userId", "name");

-- CreateIndex
CREATE INDEX "Server_projectId_deleted_createdAt_idx" ON "Server"("projectId", "deleted", "createdAt");

-- CreateIndex
CREATE INDEX "Server_host_deleted_idx" ON "Server"("host", "deleted");

-- CreateIndex
CREATE INDEX "Server_updatedAt_idx" ON "Server"("updatedAt");

-- CreateIndex
CREATE INDEX "InstanceAction_serverId_startTime_idx" ON "InstanceAction"("serverId", "startTime");

-- CreateIndex
CREATE INDEX "InstanceAction_requestId_idx" ON "InstanceAction"("requestId");

-- CreateIndex
CREATE UNIQUE INDEX "InstanceActionEvent_actionId_event_key" ON "InstanceActionEvent"("actionId", "event");

-- CreateIndex
CREATE INDEX "ServerGroup_projectId_idx" ON "ServerGroup"("projectId");

-- CreateIndex
CREATE INDEX "ServerGroupMember_serverId_idx" ON "ServerGroupMember"("serverId");

-- CreateIndex
CREATE UNIQUE INDEX "ComputeNode_host_key" ON "ComputeNode"("host");

-- CreateIndex
CREATE UNIQUE INDEX "Aggregate_uuid_key" ON "Aggregate"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "Aggregate_name_key" ON "Aggregate"("name");

-- CreateIndex
CREATE INDEX "AggregateHost_host_idx" ON "AggregateHost"("host");

-- CreateIndex
CREATE UNIQUE INDEX "Migration_number_key" ON "Migration"("number");

-- CreateIndex
CREATE INDEX "Migration_serverId_createdAt_idx" ON "Migration"("serverId", "createdAt");

-- CreateIndex
CREATE INDEX "Migration_status_idx" ON "Migration"("status");

-- CreateIndex
CREATE INDEX "Migration_createdAt_idx" ON "Migration"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ConsoleToken_tokenHash_key" ON "ConsoleToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ConsoleToken_serverId_idx" ON "ConsoleToken"("serverId");

-- CreateIndex
CREATE INDEX "ConsoleToken_expiresAt_idx" ON "ConsoleToken"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Ec2Credential_access_key" ON "Ec2Credential"("access");

-- CreateIndex
CREATE INDEX "Ec2Credential_userId_idx" ON "Ec2Credential"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Domain_name_key" ON "Domain"("name");

-- CreateIndex
CREATE INDEX "Project_parentId_idx" ON "Project"("parentId");

-- CreateIndex
CREATE UNIQUE INDEX "Project_domainId_name_key" ON "Project"("domainId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "User_domainId_name_key" ON "User"("domainId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Group_domainId_name_key" ON "Group"("domainId", "name");

-- CreateIndex
CREATE INDEX "GroupMembership_userId_idx" ON "GroupMembership"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Role_name_key" ON "Role"("name");

-- CreateIndex
CREATE INDEX "RoleAssignment_actorType_actorId_idx" ON "RoleAssignment"("actorType", "actorId");

-- CreateIndex
CREATE INDEX "RoleAssignment_targetType_targetId_idx" ON "RoleAssignment"("targetType", "targetId");

-- CreateIndex
CREATE UNIQUE INDEX "RoleAssignment_roleId_actorType_actorId_targetType_targetId_key" ON "RoleAssignment"("roleId", "actorType", "actorId", "targetType", "targetId");

-- CreateIndex
CREATE INDEX "CatalogService_type_idx" ON "CatalogService"("type");

-- CreateIndex
CREATE INDEX "Endpoint_serviceId_idx" ON "Endpoint"("serviceId");

-- CreateIndex
CREATE UNIQUE INDEX "ApplicationCredential_userId_name_key" ON "ApplicationCredential"("userId", "name");

-- CreateIndex
CREATE INDEX "RevocationEvent_expiresAt_idx" ON "RevocationEvent"("expiresAt");

-- CreateIndex
CREATE INDEX "Image_owner_idx" ON "Image"("owner");

-- CreateIndex
CREATE INDEX "Image_visibility_idx" ON "Image"("visibility");

-- CreateIndex
CREATE INDEX "Image_name_idx" ON "Image"("name");

-- CreateIndex
CREATE INDEX "Image_createdAt_id_idx" ON "Image"("createdAt", "id");

-- CreateIndex
CREATE INDEX "ImageMember_memberId_status_idx" ON "ImageMember"("memberId", "status");

-- CreateIndex
CREATE INDEX "Network_projectId_idx" ON "Network"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "Network_networkType_segmentationId_key" ON "Network"("networkType", "segmentationId");

-- CreateIndex
CREATE INDEX "Subnet_networkId_idx" ON "Subnet"("networkId");

-- CreateIndex
CREATE INDEX "Subnet_projectId_idx" ON "Subnet"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "Port_macAddress_key" ON "Port"("macAddress");

-- CreateIndex
CREATE INDEX "Port_networkId_idx" ON "Port"("networkId");

-- CreateIndex
CREATE INDEX "Port_projectId_idx" ON "Port"("projectId");

-- CreateIndex
CREATE INDEX "Port_deviceId_idx" ON "Port"("deviceId");

-- CreateIndex
CREATE UNIQUE INDEX "PortFixedIp_subnetId_ip_key" ON "PortFixedIp"("subnetId", "ip");

-- CreateIndex
CREATE INDEX "PortSecurityGroup_securityGroupId_idx" ON "PortSecurityGroup"("securityGroupId");

-- CreateIndex
CREATE UNIQUE INDEX "Router_gatewayPortId_key" ON "Router"("gatewayPortId");

-- CreateIndex
CREATE INDEX "Router_projectId_idx" ON "Router"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "RouterInterface_routerId_subnetId_key" ON "RouterInterface"("routerId", "subnetId");

-- CreateIndex
CREATE UNIQUE INDEX "FloatingIp_floatingIp_key" ON "FloatingIp"("floatingIp");

-- CreateIndex
CREATE UNIQUE INDEX "FloatingIp_floatingPortId_key" ON "FloatingIp"("floatingPortId");

-- CreateIndex
CREATE INDEX "FloatingIp_projectId_idx" ON "FloatingIp"("projectId");

-- CreateIndex
CREATE INDEX "FloatingIp_portId_idx" ON "FloatingIp"("portId");

-- CreateIndex
CREATE UNIQUE INDEX "SecurityGroup_defaultFor_key" ON "SecurityGroup"("defaultFor");

-- CreateIndex
CREATE INDEX "SecurityGroup_projectId_idx" ON "SecurityGroup"("projectId");

-- CreateIndex
CREATE INDEX "SecurityGroupRule_securityGroupId_idx" ON "SecurityGroupRule"("securityGroupId");

-- CreateIndex
CREATE INDEX "SecurityGroupRule_remoteGroupId_idx" ON "SecurityGroupRule"("remoteGroupId");

-- CreateIndex
CREATE UNIQUE INDEX "ObjectRingDevice_ringName_host_port_device_key" ON "ObjectRingDevice"("ringName", "host", "port", "device");

-- CreateIndex
CREATE UNIQUE INDEX "SwiftAccount_projectId_key" ON "SwiftAccount"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "SwiftContainer_account_name_key" ON "SwiftContainer"("account", "name");

-- CreateIndex
CREATE INDEX "SwiftObject_deleteAt_idx" ON "SwiftObject"("deleteAt");

-- CreateIndex
CREATE INDEX "SwiftReservation_account_container_idx" ON "SwiftReservation"("account", "container");

-- CreateIndex
CREATE UNIQUE INDEX "ResourceProvider_name_key" ON "ResourceProvider"("name");

-- CreateIndex
CREATE INDEX "ResourceProvider_rootId_idx" ON "ResourceProvider"("rootId");

-- CreateIndex
CREATE INDEX "ResourceProvider_parentId_idx" ON "ResourceProvider"("parentId");

-- CreateIndex
CREATE INDEX "PlacementInventory_resourceClass_idx" ON "PlacementInventory"("resourceClass");

-- CreateIndex
CREATE INDEX "PlacementConsumer_projectId_userId_idx" ON "PlacementConsumer"("projectId", "userId");

-- CreateIndex
CREATE INDEX "PlacementAllocation_providerId_resourceClass_idx" ON "PlacementAllocation"("providerId", "resourceClass");

-- CreateIndex
CREATE INDEX "ResourceProviderTrait_trait_idx" ON "ResourceProviderTrait"("trait");

-- CreateIndex
CREATE INDEX "ResourceProviderAggregate_aggregateUuid_idx" ON "ResourceProviderAggregate"("aggregateUuid");

-- CreateIndex
CREATE UNIQUE INDEX "VolumeType_name_key" ON "VolumeType"("name");

-- CreateIndex
CREATE INDEX "VolumeBackend_host_idx" ON "VolumeBackend"("host");

-- CreateIndex
CREATE INDEX "Volume_projectId_createdAt_idx" ON "Volume"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "Volume_backend_idx" ON "Volume"("backend");

-- CreateIndex
CREATE INDEX "VolumeAttachment_serverId_idx" ON "VolumeAttachment"("serverId");

-- CreateIndex
CREATE UNIQUE INDEX "VolumeAttachment_volumeId_serverId_key" ON "VolumeAttachment"("volumeId", "serverId");

-- CreateIndex
CREATE INDEX "VolumeSnapshot_projectId_createdAt_idx" ON "VolumeSnapshot"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "VolumeSnapshot_volumeId_idx" ON "VolumeSnapshot"("volumeId");

-- CreateIndex
CREATE INDEX "VolumeBackup_projectId_createdAt_idx" ON "VolumeBackup"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "VolumeBackup_volumeId_idx" ON "VolumeBackup"("volumeId");

-- CreateIndex
CREATE INDEX "VolumeBackup_parentId_idx" ON "VolumeBackup"("parentId");

-- CreateIndex
CREATE UNIQUE INDEX "VolumeTransfer_volumeId_key" ON "VolumeTransfer"("volumeId");

-- AddForeignKey
ALTER TABLE "FlavorAccess" ADD CONSTRAINT "FlavorAccess_flavorId_fkey" FOREIGN KEY ("flavorId") REFERENCES "Flavor"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstanceAction" ADD CONSTRAINT "InstanceAction_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstanceActionEvent" ADD CONSTRAINT "InstanceActionEvent_actionId_fkey" FOREIGN KEY ("actionId") REFERENCES "InstanceAction"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ServerGroupMember" ADD CONSTRAINT "ServerGroupMember_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "ServerGroup"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AggregateHost" ADD CONSTRAINT "AggregateHost_aggregateId_fkey" FOREIGN KEY ("aggregateId") REFERENCES "Aggregate"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Project" ADD CONSTRAINT "Project_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "Domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Project" ADD CONSTRAINT "Project_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Project"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "Domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Group" ADD CONSTRAINT "Group_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "Domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GroupMembership" ADD CONSTRAINT "GroupMembership_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GroupMembership" ADD CONSTRAINT "GroupMembership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoleAssignment" ADD CONSTRAINT "RoleAssignment_roleId_fkey" FOREIGN KEY ("roleId") REFERENCES "Role"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "CatalogService"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_regionId_fkey" FOREIGN KEY ("regionId") REFERENCES "Region"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApplicationCredential" ADD CONSTRAINT "ApplicationCredential_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImageMember" ADD CONSTRAINT "ImageMember_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subnet" ADD CONSTRAINT "Subnet_networkId_fkey" FOREIGN KEY ("networkId") REFERENCES "Network"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Port" ADD CONSTRAINT "Port_networkId_fkey" FOREIGN KEY ("networkId") REFERENCES "Network"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PortFixedIp" ADD CONSTRAINT "PortFixedIp_portId_fkey" FOREIGN KEY ("portId") REFERENCES "Port"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PortFixedIp" ADD CONSTRAINT "PortFixedIp_subnetId_fkey" FOREIGN KEY ("subnetId") REFERENCES "Subnet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PortSecurityGroup" ADD CONSTRAINT "PortSecurityGroup_portId_fkey" FOREIGN KEY ("portId") REFERENCES "Port"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PortSecurityGroup" ADD CONSTRAINT "PortSecurityGroup_securityGroupId_fkey" FOREIGN KEY ("securityGroupId") REFERENCES "SecurityGroup"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RouterInterface" ADD CONSTRAINT "RouterInterface_routerId_fkey" FOREIGN KEY ("routerId") REFERENCES "Router"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SecurityGroupRule" ADD CONSTRAINT "SecurityGroupRule_securityGroupId_fkey" FOREIGN KEY ("securityGroupId") REFERENCES "SecurityGroup"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResourceProvider" ADD CONSTRAINT "ResourceProvider_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "ResourceProvider"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PlacementInventory" ADD CONSTRAINT "PlacementInventory_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "ResourceProvider"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PlacementAllocation" ADD CONSTRAINT "PlacementAllocation_consumerId_fkey" FOREIGN KEY ("consumerId") REFERENCES "PlacementConsumer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PlacementAllocation" ADD CONSTRAINT "PlacementAllocation_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "ResourceProvider"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResourceProviderTrait" ADD CONSTRAINT "ResourceProviderTrait_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "ResourceProvider"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResourceProviderAggregate" ADD CONSTRAINT "ResourceProviderAggregate_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "ResourceProvider"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VolumeAttachment" ADD CONSTRAINT "VolumeAttachment_volumeId_fkey" FOREIGN KEY ("volumeId") REFERENCES "Volume"("id") ON DELETE CASCADE ON UPDATE CASCADE;
