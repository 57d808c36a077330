// User accounts: identity, admin flags and the OIDC standard claims (OIDC Core §5.1).
export interface Address {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

export interface UserRecord {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  password_hash: string | null;
  is_active: boolean;
  is_admin: boolean;
  requires_password_change: boolean;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  middle_name: string | null;
  nickname: string | null;
  preferred_username: string | null;
  profile: string | null;
  picture: string | null;
  website: string | null;
  gender: string | null;
  birthdate: string | null;
  zoneinfo: string | null;
  locale: string | null;
  phone_number: string | null;
  phone_number_verified: boolean;
  address: Address | null;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}
